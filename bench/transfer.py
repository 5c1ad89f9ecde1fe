"""File transfer and shell output throughput through a real server.

    .venv/bin/python bench/transfer.py [--mib 64] [--runs 3]

Starts ``supportbox serve`` as its own process (SQLite, a fresh data
directory) and the real ``supportbox customer --allow shell,files`` as
another; this process is the representative, speaking the live protocol
over WebSockets. It measures, per run:

* a file sent to the customer (from ``file_send`` until the customer has
  checked and placed it and the server answered ``file_done``);
* a file fetched from the customer (from ``file_fetch`` until the last
  byte and the checked ``file_end`` arrived and the hashes agree);
* a raw TCP copy of the same bytes over loopback to a receiving process
  that writes them to a file, in the same run: the sender here, the
  receiver in its own process, as the customer is;
* shell output (``head -c ... /dev/zero | tr '\\0' a``) through the pty,
  the server and its recorder.

It prints MiB/s and each transfer's ratio to the raw copy.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from streamkit import Side
from supportbox.cli.main import main as cli_main
from supportbox.clients.link import WRITE_LIMIT
from supportbox.core import events as ev
from supportbox.streams import frames

ROOT = Path(__file__).resolve().parent.parent
SUPPORTBOX = ROOT / ".venv" / "bin" / "supportbox"
PASSWORD = "demo-rep-pass"
CHUNK = frames.MAX_CHUNK
COMMAND = "head -c {count} /dev/zero | tr '\\0' a; echo; echo END-$((1+1))\n"

# The receiving ends of the raw copies: write the bytes to a file, as the
# customer does (and as `nc host port > file` would), then answer one
# byte. "socket" is the kernel's speed (a C loop); "asyncio" is what a
# Python program on asyncio streams, as the clients and the server are,
# reaches.
RECEIVERS = {
    "socket": """
import socket, sys
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
want, got = int(sys.argv[1]), 0
buffer = bytearray(1 << 20)
with open(sys.argv[2], "wb") as out:
    while got < want:
        n = conn.recv_into(buffer)
        if not n:
            break
        out.write(memoryview(buffer)[:n])
        got += n
conn.sendall(b"k")
""",
    "asyncio": """
import asyncio, sys
async def main():
    done = asyncio.Event()
    async def take(reader, writer):
        want, got = int(sys.argv[1]), 0
        with open(sys.argv[2], "wb") as out:
            while got < want:
                block = await reader.read(1 << 20)
                if not block:
                    break
                out.write(block)
                got += len(block)
        writer.write(b"k")
        await writer.drain()
        writer.close()
        done.set()
    server = await asyncio.start_server(take, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await done.wait()
asyncio.run(main())
""",
}


@dataclass
class Place:
    url: str
    lsid: str
    token: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raw_target() -> Path:
    return Path(tempfile.gettempdir()) / f"supportbox-bench-raw-{os.getpid()}"


def receiver(kind: str, size: int) -> tuple[subprocess.Popen[str], int]:
    target = raw_target()
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVERS[kind], str(size), str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def raw_socket(body: bytes) -> float:
    """Seconds to copy ``body`` to another process with blocking sockets."""
    process, port = receiver("socket", len(body))
    view = memoryview(body)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        for start in range(0, len(body), CHUNK):
            sock.sendall(view[start : start + CHUNK])
        assert sock.recv(1) == b"k"
        seconds = time.perf_counter() - started
    process.wait(10)
    raw_target().unlink(missing_ok=True)
    return seconds


async def raw_asyncio(body: bytes) -> float:
    """Seconds to copy ``body`` to another process on asyncio streams."""
    process, port = receiver("asyncio", len(body))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    view = memoryview(body)
    started = time.perf_counter()
    for start in range(0, len(body), CHUNK):
        writer.write(view[start : start + CHUNK])
        await writer.drain()
    assert await reader.read(1) == b"k"
    seconds = time.perf_counter() - started
    writer.close()
    process.wait(10)
    raw_target().unlink(missing_ok=True)
    return seconds


def start_server(data_dir: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            str(SUPPORTBOX),
            "serve",
            "--data-dir",
            str(data_dir),
            "--database-url",
            url,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            if httpx.get(base + "/check_health").status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.terminate()
    raise RuntimeError("the server did not start")


def new_session(base: str) -> Place:
    query = "issue_menu=1&codeName=printer&customer.name=Bench&client=cli"
    started: dict[str, Any] = httpx.get(f"{base}/api/start_session?{query}").json()
    return Place(base, started["lsid"], started["token"])


def start_customer(place: Place, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(SUPPORTBOX),
            "customer",
            "--server",
            place.url,
            "--lsid",
            place.lsid,
            "--token",
            place.token,
            "--json",
            "--allow",
            "shell,files",
            "--files-dir",
            str(folder),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, SHELL="/bin/sh"),
    )


async def representative(place: Place) -> Side:
    url = place.url.replace("http://", "ws://") + "/live"
    ws = await connect(url, max_size=None, compression=None, write_limit=WRITE_LIMIT)
    rep = Side(ws)
    await rep.send(
        "hello",
        v=1,
        role="representative",
        username="alice",
        password=PASSWORD,
        queue_updates=False,
    )
    await rep.expect("welcome")
    await rep.send("accept", lsid=place.lsid, id="a")
    await rep.expect("ok", re="a")
    # The customer's client reports its system information once connected.
    await rep.event(ev.SYSTEM_INFORMATION, timeout=60)
    return rep


async def upload(rep: Side, lsid: str, body: bytes, name: str) -> float:
    started = time.perf_counter()
    await rep.send("file_send", lsid=lsid, path=name, size=len(body), id=name)
    channel = (await rep.expect("ok", re=name))["channel"]
    await rep.expect("file_accepted", channel=channel)
    digest = hashlib.sha256()
    view = memoryview(body)
    for index, start in enumerate(range(0, len(body), CHUNK)):
        block = view[start : start + CHUNK]
        digest.update(block)
        await rep.ws.send(frames.encode(channel, index, block))
    await rep.send("file_end", channel=channel, sha256=digest.hexdigest())
    done = await rep.expect_any(
        "file_done", "file_failed", channel=channel, timeout=300
    )
    assert done["type"] == "file_done" and done["sha256"] == digest.hexdigest(), done
    return time.perf_counter() - started


async def download(rep: Side, lsid: str, name: str, expected: str, run: int) -> float:
    started = time.perf_counter()
    await rep.send("file_fetch", lsid=lsid, path=name, id=f"f{run}")
    channel = (await rep.expect("ok", re=f"f{run}"))["channel"]
    accepted = await rep.expect_any("file_accepted", "file_failed", channel=channel)
    assert accepted["type"] == "file_accepted", accepted
    size = accepted["size"]
    digest, got = hashlib.sha256(), 0
    while got < size:
        _n, _c, data = frames.decode(await asyncio.wait_for(rep.data.get(), 300))
        digest.update(data)
        got += len(data)
    end = await rep.expect("file_end", channel=channel, timeout=300)
    assert end["sha256"] == digest.hexdigest() == expected
    return time.perf_counter() - started


async def shell(rep: Side, lsid: str, count: int) -> float:
    await rep.send("shell_open", lsid=lsid, id="s")
    channel = (await rep.expect("ok", re="s"))["channel"]
    await rep.expect("shell_opened", channel=channel)
    # Wait until the shell runs commands, so that only the output is timed.
    await rep.ws.send(frames.encode(channel, 0, b"echo READY-$((1+1))\n"))
    await rep.output_until(channel, b"READY-2", timeout=60)
    started = time.perf_counter()
    command = COMMAND.format(count=count).encode()
    await rep.ws.send(frames.encode(channel, 1, command))
    await rep.output_until(channel, b"END-2", timeout=300)
    seconds = time.perf_counter() - started
    await rep.send("shell_close", channel=channel, id="c")
    await rep.expect("ok", re="c")
    return seconds


def cpu(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU seconds each process spent during one measurement."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = {name: cpu(pid) for name, pid in pids.items()}

    def used(self) -> dict[str, float]:
        return {name: cpu(pid) - self.start[name] for name, pid in self.pids.items()}


async def measure(
    place: Place,
    body: bytes,
    runs: int,
    shell_bytes: int,
    pids: dict[str, int],
    folder: Path,
) -> list[dict[str, Any]]:
    rep = await representative(place)
    expected = hashlib.sha256(body).hexdigest()
    results: list[dict[str, Any]] = []
    for run in range(runs):
        result: dict[str, Any] = {
            "socket": await asyncio.to_thread(raw_socket, body),
            "raw": await raw_asyncio(body),
        }
        meter = Meter(pids)
        result["upload"] = await upload(rep, place.lsid, body, f"ours-{run}.bin")
        result["upload_cpu"] = meter.used()
        # The raw copies' files are removed after each run; so is this one.
        (folder / f"ours-{run}.bin").unlink()
        meter = Meter(pids)
        result["download"] = await download(
            rep, place.lsid, "theirs.bin", expected, run
        )
        result["download_cpu"] = meter.used()
        results.append(result)
    results[0]["shell"] = await shell(rep, place.lsid, shell_bytes)
    await rep.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="size of the test file")
    parser.add_argument("--runs", type=int, default=3, help="transfers each way")
    parser.add_argument("--shell-mib", type=int, default=16, help="shell output")
    args = parser.parse_args()
    body = os.urandom(args.mib * 1024 * 1024)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir, folder = Path(tmp) / "data", Path(tmp) / "customer"
        data_dir.mkdir()
        folder.mkdir()
        (folder / "theirs.bin").write_bytes(body)
        url = f"sqlite:///{data_dir / 'supportbox.db'}"
        init = ["init", "--demo", "--data-dir", str(data_dir), "--database-url", url]
        assert cli_main(init) == 0
        port = free_port()
        server = start_server(data_dir, url, port)
        customer = None
        try:
            place = new_session(f"http://127.0.0.1:{port}")
            customer = start_customer(place, folder)
            shell_bytes = args.shell_mib * 1024 * 1024
            pids = {"rep": os.getpid(), "server": server.pid, "customer": customer.pid}
            results = asyncio.run(
                measure(place, body, args.runs, shell_bytes, pids, folder)
            )
        finally:
            for process in (customer, server):
                if process is not None:
                    process.terminate()
                    process.wait(10)
    report(results, len(body), args.shell_mib)
    return 0


def report(results: list[dict[str, Any]], size: int, shell_mib: int) -> None:
    mib = size / 1024 / 1024
    print(f"file size: {mib:.0f} MiB, {len(results)} runs, {time.strftime('%F %T')}")
    print("MiB/s; ratio = transfer / raw asyncio copy; CPU s of rep/server/customer")
    print("run  socket  raw(asyncio)  upload (ratio) [CPU]  download (ratio) [CPU]")
    ratios = []
    for number, result in enumerate(results, 1):
        sock, raw, up, down = (
            mib / result[k] for k in ("socket", "raw", "upload", "download")
        )
        ratios += [up / raw, down / raw]
        print(
            f"{number:3} {sock:7.0f} {raw:9.0f}"
            f"  {up:9.1f} ({up / raw:.2f}) [{_cpu(result['upload_cpu'])}]"
            f"  {down:7.1f} ({down / raw:.2f}) [{_cpu(result['download_cpu'])}]"
        )
    ratios.sort()
    print(f"ratio: best {ratios[-1]:.2f}, median {ratios[len(ratios) // 2]:.2f}")
    print(f"shell output via server: {shell_mib / results[0]['shell']:8.1f} MiB/s")


def _cpu(used: dict[str, float]) -> str:
    return "/".join(f"{used[k]:.2f}" for k in ("rep", "server", "customer"))


if __name__ == "__main__":
    sys.exit(main())
