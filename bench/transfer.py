"""File transfer and shell output throughput through a real server.

    .venv/bin/python bench/transfer.py [--mib 64]

Starts a server on 127.0.0.1 with a fresh SQLite data directory, connects
a customer (with the real agent) and a representative over WebSockets,
and prints MiB/s for a file sent to the customer, a file fetched from the
customer, a raw TCP copy of the same bytes over loopback in the same run,
the ratio of each transfer to the raw copy, and shell output throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from livekit import open_session
from serverkit import init_data_dir, run_server
from streamkit import customer, representative
from supportbox.settings import Settings
from supportbox.streams import frames

CHUNK = 256 * 1024
COMMAND = "head -c {count} /dev/zero | tr '\\0' a; echo; echo END-$((1+1))\n"


async def raw_tcp(body: bytes) -> float:
    """Seconds to copy ``body`` over a loopback TCP connection."""
    done = asyncio.get_running_loop().create_future()

    async def receive(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        got = 0
        while got < len(body):
            block = await reader.read(CHUNK)
            if not block:
                break
            got += len(block)
        done.set_result(got)
        writer.close()

    server = await asyncio.start_server(receive, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    started = time.perf_counter()
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    view = memoryview(body)
    for start in range(0, len(body), CHUNK):
        writer.write(view[start : start + CHUNK])
        await writer.drain()
    await done
    seconds = time.perf_counter() - started
    writer.close()
    server.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="size of the test file")
    args = parser.parse_args()
    body = os.urandom(args.mib * 1024 * 1024)

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        folder = Path(tmp) / "customer"
        folder.mkdir()
        (folder / "theirs.bin").write_bytes(body)
        url = f"sqlite:///{data_dir / 'supportbox.db'}"
        credentials = init_data_dir(data_dir, url)
        settings = Settings(data_dir=data_dir, database_url=url, log_level="warning")
        with run_server(settings, credentials) as server:
            opened = open_session(server)
            results = asyncio.run(run(server, opened, body, folder))

    mib = len(body) / 1024 / 1024
    raw = mib / results["raw"]
    print(f"file size: {mib:.0f} MiB")
    print(f"raw TCP copy over loopback: {raw:8.1f} MiB/s")
    for name in ("upload", "download"):
        rate = mib / results[name]
        print(f"file {name:8} via server: {rate:8.1f} MiB/s  ({rate / raw:.2f} of raw)")
    shell_mib = results["shell_bytes"] / 1024 / 1024
    print(f"shell output via server:   {shell_mib / results['shell']:8.1f} MiB/s")
    return 0


async def run(
    server: object, opened: object, body: bytes, folder: Path
) -> dict[str, float]:
    from serverkit import LiveServer
    from supportbox.core.hub import OpenedSession

    assert isinstance(server, LiveServer) and isinstance(opened, OpenedSession)
    results: dict[str, float] = {"raw": await raw_tcp(body)}
    cust = await customer(server, opened, files_dir=folder)
    rep = await representative(server)
    await rep.send("accept", lsid=opened.lsid, id="a")
    await rep.expect("ok", re="a")

    # a file sent to the customer
    started = time.perf_counter()
    await rep.send(
        "file_send", lsid=opened.lsid, path="ours.bin", size=len(body), id="u"
    )
    channel = (await rep.expect("ok", re="u"))["channel"]
    await rep.expect("file_accepted", channel=channel)
    digest = hashlib.sha256()
    view = memoryview(body)
    for index, start in enumerate(range(0, len(body), CHUNK)):
        block = view[start : start + CHUNK]
        digest.update(block)
        await rep.ws.send(frames.encode(channel, index, bytes(block)))
    await rep.send("file_end", channel=channel, sha256=digest.hexdigest())
    await rep.expect("file_done", channel=channel, timeout=120)
    results["upload"] = time.perf_counter() - started

    # a file fetched from the customer
    started = time.perf_counter()
    await rep.send("file_fetch", lsid=opened.lsid, path="theirs.bin", id="d")
    channel = (await rep.expect("ok", re="d"))["channel"]
    size = (await rep.expect("file_accepted", channel=channel))["size"]
    digest, got = hashlib.sha256(), 0
    while got < size:
        _n, _c, data = frames.decode(await asyncio.wait_for(rep.data.get(), 60))
        digest.update(data)
        got += len(data)
    end = await rep.expect("file_end", channel=channel, timeout=60)
    assert end["sha256"] == digest.hexdigest()
    results["download"] = time.perf_counter() - started

    # shell output
    await rep.send("shell_open", lsid=opened.lsid, id="s")
    channel = (await rep.expect("ok", re="s"))["channel"]
    await rep.expect("shell_opened", channel=channel)
    await asyncio.sleep(0.3)
    while not rep.data.empty():
        rep.data.get_nowait()
    count = 32 * 1024 * 1024
    started = time.perf_counter()
    await rep.ws.send(
        frames.encode(
            channel,
            0,
            COMMAND.format(count=count).encode(),
        )
    )
    await rep.output_until(channel, b"END-2", timeout=120)
    results["shell"] = time.perf_counter() - started
    results["shell_bytes"] = count
    await cust.close()
    await rep.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
