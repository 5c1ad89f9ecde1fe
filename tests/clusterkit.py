"""Several real `supportbox serve` processes sharing a database and Redis,
optionally behind nginx running deploy/nginx.conf."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from serverkit import free_socket

ROOT = Path(__file__).parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    sock = free_socket()
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def wait_healthy(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url + "/check_health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy")
        time.sleep(0.1)


@dataclass
class Node:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """Die as a crashed machine would: no shutdown, no goodbyes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]


@contextmanager
def run_cluster(
    data_dir: Path, database_url: str, broker_url: str, count: int = 2
) -> Iterator[Cluster]:
    """Start ``count`` nodes on free ports; all are healthy when this yields."""
    cluster = Cluster()
    log = (data_dir / "nodes.log").open("ab")
    try:
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "supportbox",
                    "serve",
                    "--data-dir",
                    str(data_dir),
                    "--database-url",
                    database_url,
                    "--broker-url",
                    broker_url,
                    "--port",
                    str(port),
                    "--public-url",
                    f"http://127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=log,
                env={**os.environ, "SUPPORTBOX_RESUME_GRACE": "5"},
            )
            cluster.nodes.append(Node(f"http://127.0.0.1:{port}", process))
        for node in cluster.nodes:
            wait_healthy(node.url)
        yield cluster
    finally:
        for node in cluster.nodes:
            if node.process.poll() is None:
                node.process.terminate()
        for node in cluster.nodes:
            try:
                node.process.wait(15)
            except subprocess.TimeoutExpired:
                node.process.kill()
        log.close()


@contextmanager
def run_nginx(run_dir: Path, upstreams: list[str]) -> Iterator[str]:
    """nginx with deploy/nginx.conf in front of ``upstreams``; yields its URL."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n        ".join(
        f"server {url.removeprefix('http://')};" for url in upstreams
    )
    config = (
        (ROOT / "deploy" / "nginx.conf")
        .read_text()
        .replace("@@RUN_DIR@@", str(run_dir))
        .replace("@@UPSTREAM_SERVERS@@", servers)
        .replace("@@LISTEN@@", f"127.0.0.1:{port}")
    )
    conf = run_dir / "nginx.conf"
    conf.write_text(config)
    process = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(run_dir), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        process.terminate()
        process.wait(10)
