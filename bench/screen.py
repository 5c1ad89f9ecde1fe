"""Screen sharing through a real server: frame rate, size and latency.

    .venv/bin/python bench/screen.py [--seconds 10] [--size 1024x768]

Starts Xvfb and a server on 127.0.0.1 (fresh SQLite data directory),
connects a customer (the real screen agent capturing the Xvfb display)
and a representative that draws and acknowledges every update, as the
clients do. A painter changes the screen 30 times a second: a 200x200
square moving across it and a marker whose colour numbers the paint. It
prints updates per second, bytes per update, the end-to-end latency from
a paint to the representative having drawn it, and then the bandwidth of
the same screen left idle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from Xlib import display

from livekit import open_session
from serverkit import LiveServer, init_data_dir, run_server
from streamkit import customer, representative
from supportbox.core.hub import OpenedSession
from supportbox.screen.agent import ScreenAgent
from supportbox.screen.codec import Framebuffer
from supportbox.settings import Settings
from supportbox.streams import frames

RATE = 30
MARK = (8, 8)


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as ready:
        return process, ":" + ready.readline().strip()


class Painter(threading.Thread):
    """Paints the screen ``RATE`` times a second; remembers when."""

    def __init__(self, name: str, width: int, height: int) -> None:
        super().__init__(daemon=True)
        self.display = display.Display(name)
        screen = self.display.screen()
        self.window = screen.root.create_window(
            0, 0, width, height, 0, screen.root_depth, override_redirect=True
        )
        self.window.map()
        self.gc = self.window.create_gc()
        self.size = (width, height)
        self.painted: dict[int, float] = {}
        self.running = threading.Event()
        self.stopped = threading.Event()

    def run(self) -> None:
        index = 0
        width, height = self.size
        while not self.stopped.is_set():
            self.running.wait()
            index += 1
            x = (index * 17) % (width - 200)
            self.gc.change(foreground=0x202020)
            self.window.fill_rectangle(self.gc, 0, 0, width, height)
            self.gc.change(foreground=0x3060C0 + index % 64)
            self.window.fill_rectangle(self.gc, x, height // 3, 200, 200)
            # The marker's colour is the paint's number (green, blue bytes).
            self.gc.change(foreground=0xFF0000 | (index & 0xFFFF))
            self.window.fill_rectangle(self.gc, 0, 0, 16, 16)
            self.display.sync()
            self.painted[index & 0xFFFF] = time.perf_counter()
            time.sleep(1 / RATE)


async def measure(
    server: LiveServer, opened: OpenedSession, painter: Painter, name: str, args: Any
) -> dict[str, float]:
    cust = await customer(server, opened, allow=())
    cust.screen = ScreenAgent(
        cust.send_frame,
        cust.ws.send,
        allow=("screen",),
        display=name,
        max_fps=args.max_fps,
    )
    rep = await representative(server)
    await rep.send("accept", lsid=opened.lsid, id="a")
    await rep.expect("ok", re="a")
    await rep.send("screen_open", lsid=opened.lsid, id="s")
    channel = (await rep.expect("ok", re="s"))["channel"]
    await rep.expect("screen_opened", channel=channel)
    framebuffer = Framebuffer()
    sizes: list[int] = []
    latencies: list[float] = []
    pending = 0

    async def receive(until: float) -> None:
        nonlocal pending
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            try:
                raw = await asyncio.wait_for(rep.data.get(), until - loop.time())
            except TimeoutError:
                return
            _number, _chunk, data = frames.decode(raw)
            pending += len(raw)
            if not await asyncio.to_thread(framebuffer.apply, data):
                continue
            drawn = time.perf_counter()
            ack = rep.send("screen_ack", channel=channel, update=framebuffer.updates)
            if args.ack_delay:
                # A slow link: the acknowledgement arrives ack_delay ms later.
                loop.call_later(args.ack_delay / 1000, asyncio.ensure_future, ack)
            else:
                await ack
            sizes.append(pending)
            pending = 0
            r, g, b = framebuffer.image().getpixel(MARK)
            painted = painter.painted.get((g << 8) | b) if r == 255 else None
            if painted is not None:
                latencies.append(drawn - painted)

    loop = asyncio.get_running_loop()
    painter.running.set()
    await receive(loop.time() + 2)  # warm up
    sizes.clear(), latencies.clear()
    started = loop.time()
    await receive(started + args.seconds)
    busy_seconds = loop.time() - started
    updates, total = len(sizes), sum(sizes)
    lat = sorted(latencies)

    painter.running.clear()
    await receive(loop.time() + 1.5)  # the last paints arrive
    sizes.clear()
    await receive(loop.time() + args.idle)
    idle_bytes = sum(sizes) + pending

    await cust.close()
    await rep.close()
    return {
        "fps": updates / busy_seconds,
        "bytes": total / max(updates, 1),
        "kib_s": total / busy_seconds / 1024,
        "p50": statistics.median(lat) * 1000 if lat else float("nan"),
        "p95": lat[int(len(lat) * 0.95)] * 1000 if lat else float("nan"),
        "idle": idle_bytes / args.idle,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--idle", type=float, default=5)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--max-fps", type=float, default=15, help="the agent's cap")
    parser.add_argument(
        "--ack-delay", type=float, default=0, help="ms added to each acknowledgement"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    xvfb, name = start_xvfb(width, height)
    painter = Painter(name, width, height)
    painter.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "data"
            data_dir.mkdir()
            url = f"sqlite:///{data_dir / 'supportbox.db'}"
            credentials = init_data_dir(data_dir, url)
            settings = Settings(
                data_dir=data_dir, database_url=url, log_level="warning"
            )
            with run_server(settings, credentials) as server:
                opened = open_session(server)
                got = asyncio.run(measure(server, opened, painter, name, args))
    finally:
        painter.stopped.set()
        painter.running.set()
        painter.join(5)
        xvfb.terminate()
        xvfb.wait()

    print(
        f"screen {width}x{height}, painted {RATE}/s, agent cap {args.max_fps}/s,"
        f" acknowledgements {args.ack_delay:.0f} ms late"
    )
    print(f"updates per second:      {got['fps']:8.1f}")
    print(f"bytes per update:        {got['bytes']:8.0f}")
    print(f"bandwidth while changing:{got['kib_s']:8.0f} KiB/s")
    print(f"paint-to-drawn latency:  p50 {got['p50']:.0f} ms, p95 {got['p95']:.0f} ms")
    print(f"idle screen:             {got['idle']:8.0f} bytes/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
