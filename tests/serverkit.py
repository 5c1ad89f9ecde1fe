"""A real supportbox server on a free port, for tests.

The server runs uvicorn in a background thread of the test process, on a
socket bound to port 0, against a fresh data directory and database
prepared exactly as ``supportbox init --demo`` prepares them.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from sqlalchemy import create_engine, text
from starlette.routing import BaseRoute

from supportbox.cli.main import main as cli_main
from supportbox.runtime import Runtime, open_runtime
from supportbox.server import make_config
from supportbox.settings import Settings
from supportbox.web.app import build_app

POSTGRES_ADMIN_URL = os.environ.get(
    "SUPPORTBOX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


REDIS_URL = os.environ.get("SUPPORTBOX_TEST_REDIS", "redis://127.0.0.1:6379/0")


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_answers(), reason=f"SKIPPED: Redis does not answer at {REDIS_URL}"
)


def backend() -> str:
    """``sqlite`` (default) or ``postgresql``, from SUPPORTBOX_TEST_DB."""
    return os.environ.get("SUPPORTBOX_TEST_DB", "sqlite")


def postgres_answers() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def fresh_database_url(data_dir: Path) -> str:
    """A new empty database for one test: an SQLite file or a PG database."""
    if backend() != "postgresql":
        return f"sqlite:///{data_dir / 'supportbox.db'}"
    name = "sbtest_" + uuid.uuid4().hex[:12]
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def init_data_dir(
    data_dir: Path, database_url: str, demo: bool = True
) -> dict[str, Any]:
    """Run ``supportbox init`` for real; returns the demo credentials."""
    args = ["init", "--data-dir", str(data_dir), "--database-url", database_url]
    if demo:
        args.append("--demo")
    assert cli_main(args) == 0
    if not demo:
        return {}
    credentials: dict[str, Any] = json.loads(
        (data_dir / "demo-credentials.json").read_text()
    )
    return credentials


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class LiveServer:
    """A running server and what a test needs to talk to it."""

    url: str
    runtime: Runtime
    data_dir: Path
    credentials: dict[str, Any]
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        """Run ``coroutine`` on the server's event loop and wait for its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def http(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")


@contextmanager
def run_server(
    settings: Settings,
    credentials: dict[str, Any],
    routes: list[BaseRoute] | None = None,
) -> Iterator[LiveServer]:
    """Serve ``settings`` on a free port until the block ends.

    ``routes`` replaces the application's routes (for probes in tests).
    """
    sock = free_socket()
    port = sock.getsockname()[1]
    settings = settings.replace(
        port=port, public_url=settings.public_url or f"http://127.0.0.1:{port}"
    )
    runtime = open_runtime(settings)
    app = build_app(runtime, routes)
    config = make_config(app, settings)
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(
            f"http://127.0.0.1:{port}", runtime, settings.data_dir, credentials, loop
        )
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


@contextmanager
def demo_server(
    base: Path, routes: list[BaseRoute] | None = None, **changes: Any
) -> Iterator[LiveServer]:
    """A demo server in a fresh data directory under ``base``.

    For module-scoped fixtures: ``base`` comes from ``tmp_path_factory``;
    ``changes`` are Settings fields (``xml_namespace="beyondtrust"``).
    """
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    url = fresh_database_url(data_dir)
    try:
        credentials = init_data_dir(data_dir, url)
        settings = Settings(data_dir=data_dir, database_url=url).replace(**changes)
        with run_server(settings, credentials, routes) as live:
            yield live
    finally:
        drop_database(url)


@contextmanager
def fresh_runtime(data_dir: Path) -> Iterator[Runtime]:
    """A runtime (no server) on a new demo installation in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = fresh_database_url(data_dir)
    try:
        init_data_dir(data_dir, url)
        live = open_runtime(Settings(data_dir=data_dir, database_url=url))
        yield live
        live.engine.dispose()
    finally:
        drop_database(url)
