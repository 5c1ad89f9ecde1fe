"""Relay latency and idle-connection memory of the live endpoint.

Starts a real ``supportbox serve`` (SQLite in a temporary folder) and a
minimal WebSocket echo server, each in its own process on 127.0.0.1, then:

1. N active sessions (a customer and a representative connected, one
   representative per 10 sessions) exchange chat at RATE messages per
   second per session, alternating sides; the latency is from send to
   the other side's receipt of the event.
2. The same number of connections send the same load to the echo server
   (send to receipt of the echo): the floor any WebSocket relay starts
   from.
3. IDLE customers connect to waiting sessions and stay; the server's RSS
   growth divided by IDLE is the memory per idle waiting customer.

Usage: .venv/bin/python bench/relay.py [--sessions 500] [--idle 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from supportbox.core.hub import CustomerInfo, Hub, OpenedSession, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.directory import users
from supportbox.features import install
from supportbox.runtime import open_runtime
from supportbox.settings import Settings

PASSWORD = "bench-rep-pass"
SESSIONS_PER_REP = 10
COMPRESSION: str | None = os.environ.get("BENCH_COMPRESSION") or None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# the server under test


def start_server(
    data: Path, port: int, broker_url: str = "", init: bool = True
) -> subprocess.Popen[bytes]:
    supportbox = [sys.executable, "-m", "supportbox"]
    if init:
        subprocess.run(
            [*supportbox, "init", "--demo", "--data-dir", str(data)],
            check=True,
            capture_output=True,
        )
    process = subprocess.Popen(
        [
            *supportbox,
            "serve",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--live-idle-timeout",
            "3600",
            "--resume-grace",
            "600",
            "--broker-url",
            broker_url,
        ]
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def create_reps(settings: Settings, count: int) -> list[str]:
    runtime = open_runtime(settings)
    names = [f"bench{i}" for i in range(count)]
    with runtime.db() as db, db.begin():
        for name in names:
            users.create(db, name, PASSWORD)
    runtime.engine.dispose()
    return names


async def open_sessions(settings: Settings, count: int) -> list[OpenedSession]:
    """Waiting sessions in the general queue, written straight to the database."""
    runtime = open_runtime(settings)
    install(runtime)
    hub: Hub = runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Bench"))
    opened: list[OpenedSession] = []
    while len(opened) < count:
        batch = min(8, count - len(opened))
        opened += await asyncio.gather(
            *(hub.open_session(request) for _ in range(batch))
        )
    runtime.engine.dispose()
    return opened


# clients


async def hello(ws: ClientConnection, **fields: Any) -> None:
    await ws.send(json.dumps({"type": "hello", "v": 1, **fields}))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "welcome":
            return
        if frame["type"] == "error":
            raise RuntimeError(frame["message"])


async def wait_ok(ws: ClientConnection) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "ok":
            return
        if frame["type"] == "error":
            raise RuntimeError(frame["message"])


class Meter:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.received = 0
        self.counting = False

    def note(self, sent: float) -> None:
        if self.counting:
            self.latencies.append(time.perf_counter() - sent)
            self.received += 1


async def listen(ws: ClientConnection, meter: Meter, me: str) -> None:
    """Note the latency of chat from the other side."""
    async for data in ws:
        frame = json.loads(data)
        if frame.get("type") != "event":
            continue
        body = frame["event"].get("body")
        if frame["event"]["event_type"] == "Chat Message" and body:
            sent_by, _, stamp = body.partition(" ")
            if sent_by != me:
                meter.note(float(stamp))


async def talk(
    customer: ClientConnection,
    rep: ClientConnection,
    lsid: str,
    rate: float,
    until: float,
) -> int:
    sent = 0
    await asyncio.sleep(random.random() / rate)
    while time.perf_counter() < until:
        stamp = time.perf_counter()
        if sent % 2 == 0:
            frame = {"type": "chat", "body": f"c {stamp}"}
            await customer.send(json.dumps(frame))
        else:
            frame = {"type": "chat", "lsid": lsid, "body": f"r {stamp}"}
            await rep.send(json.dumps(frame))
        sent += 1
        await asyncio.sleep(max(0.0, stamp + 1 / rate - time.perf_counter()))
    return sent


async def relay_load(
    pid: int,
    url: str,
    opened: list[OpenedSession],
    rep_names: list[str],
    rate: float,
    seconds: float,
    rep_url: str = "",
    profile: str = "",
) -> dict[str, float]:
    """Customers connect to ``url``, representatives to ``rep_url`` (or url).

    With ``profile``, py-spy samples the server while the load runs and
    writes its stacks (py-spy's raw format) there.
    """
    meter = Meter()
    reps = []
    for name in rep_names:
        ws = await connect(rep_url or url, max_size=2**22)
        await hello(
            ws,
            role="representative",
            username=name,
            password=PASSWORD,
            queue_updates=False,
        )
        reps.append(ws)
    pairs = []
    for index, session in enumerate(opened):
        customer = await connect(url)
        await hello(
            customer, role="customer", lsid=session.lsid, token=session.join_token
        )
        rep = reps[index // SESSIONS_PER_REP]
        await rep.send(json.dumps({"type": "accept", "lsid": session.lsid}))
        await wait_ok(rep)
        pairs.append((customer, rep, session.lsid))

    listeners = [asyncio.create_task(listen(c, meter, "c")) for c, _, _ in pairs]
    listeners += [asyncio.create_task(listen(r, meter, "r")) for r in reps]
    await asyncio.sleep(1)
    meter.counting = True
    spy = None
    if profile:
        duration = str(max(1, math.ceil(seconds)))
        record = ["py-spy", "record", "-p", str(pid), "-d", duration]
        spy = subprocess.Popen(
            [*record, "-r", "50", "-n", "-f", "raw", "-o", profile],
            stdout=subprocess.DEVNULL,
        )
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    sent = await asyncio.gather(
        *(talk(c, r, lsid, rate, started + seconds) for c, r, lsid in pairs)
    )
    await asyncio.sleep(1)
    meter.counting = False
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    if spy is not None:
        # py-spy writes its file when its duration is over.
        try:
            code = await asyncio.to_thread(spy.wait, 30)
        except subprocess.TimeoutExpired:
            spy.kill()
            code = -1
        if code != 0:
            print(f"py-spy failed ({code}); no profile in {profile}", file=sys.stderr)
    for task in listeners:
        task.cancel()
    for ws in [c for c, _, _ in pairs] + reps:
        await ws.close()
    return summary(meter, sum(sent), elapsed, cpu)


def summary(meter: Meter, sent: int, elapsed: float, cpu: float) -> dict[str, float]:
    ms = [x * 1000 for x in meter.latencies] or [float("nan")]
    return {
        "server_cpu_ms_per_message": cpu * 1000 / max(1, meter.received),
        "sent": sent,
        "received": meter.received,
        "per_second": meter.received / elapsed,
        "p50_ms": statistics.median(ms),
        "p99_ms": percentile(ms, 0.99),
        "max_ms": max(ms),
    }


# the echo baseline


async def echo_server(port: int) -> None:
    async def echo(ws: ServerConnection) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", port):
        await asyncio.Future()


async def echo_load(
    pid: int, url: str, count: int, rate: float, seconds: float
) -> dict[str, float]:
    meter = Meter()
    sockets = [await connect(url) for _ in range(count)]

    async def listen_echo(ws: ClientConnection) -> None:
        async for data in ws:
            meter.note(float(json.loads(data)["body"].split()[1]))

    async def send(ws: ClientConnection, until: float) -> int:
        sent = 0
        await asyncio.sleep(random.random() / rate)
        while time.perf_counter() < until:
            stamp = time.perf_counter()
            await ws.send(json.dumps({"type": "chat", "body": f"c {stamp}"}))
            sent += 1
            await asyncio.sleep(max(0.0, stamp + 1 / rate - time.perf_counter()))
        return sent

    listeners = [asyncio.create_task(listen_echo(ws)) for ws in sockets]
    meter.counting = True
    started, cpu = time.perf_counter(), cpu_seconds(pid)
    sent = await asyncio.gather(*(send(ws, started + seconds) for ws in sockets))
    await asyncio.sleep(1)
    meter.counting = False
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return summary(meter, sum(sent), elapsed, cpu)


# idle customers


async def idle_memory(
    url: str, pid: int, opened: list[OpenedSession]
) -> dict[str, float]:
    await asyncio.sleep(1)
    before = rss_kib(pid)
    sockets: list[ClientConnection] = []

    async def join(session: OpenedSession) -> ClientConnection:
        ws = await connect(url, compression=COMPRESSION)
        await hello(ws, role="customer", lsid=session.lsid, token=session.join_token)
        return ws

    started = time.perf_counter()
    for first in range(0, len(opened), 50):
        sockets += await asyncio.gather(*(join(s) for s in opened[first : first + 50]))
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    after = rss_kib(pid)
    for ws in sockets:
        await ws.close()
    return {
        "customers": len(opened),
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_customer": (after - before) / len(opened),
        "connect_seconds": connect_seconds,
    }


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        port, echo_port = free_port(), free_port()
        server = start_server(data, port, args.broker_url)
        second: subprocess.Popen[bytes] | None = None
        second_url = ""
        if args.cross_node:
            # A second node on the same database; live traffic crosses Redis.
            second_port = free_port()
            second = start_server(data, second_port, args.broker_url, init=False)
            second_url = f"ws://127.0.0.1:{second_port}/live"
        echo = subprocess.Popen(
            [sys.executable, __file__, "--echo-server", str(echo_port)]
        )
        url = f"ws://127.0.0.1:{port}/live"
        settings = Settings(data_dir=data)
        results: dict[str, Any] = {"sessions": args.sessions, "rate": args.rate}
        try:
            count = max(1, -(-args.sessions // SESSIONS_PER_REP))
            rep_names = create_reps(settings, count)
            opened = await open_sessions(settings, args.sessions)
            results["load_average"] = os.getloadavg()[0]
            results["relay"] = await relay_load(
                server.pid,
                url,
                opened,
                rep_names,
                args.rate,
                args.seconds,
                profile=args.profile,
            )
            results["echo"] = await echo_load(
                echo.pid,
                f"ws://127.0.0.1:{echo_port}",
                args.sessions,
                args.rate,
                args.seconds,
            )
            relay, direct = results["relay"], results["echo"]
            results["p50_ratio"] = relay["p50_ms"] / direct["p50_ms"]
            results["p99_ratio"] = relay["p99_ms"] / direct["p99_ms"]
            if second is not None:
                fresh = await open_sessions(settings, args.sessions)
                cross = await relay_load(
                    server.pid,
                    url,
                    fresh,
                    rep_names,
                    args.rate,
                    args.seconds,
                    rep_url=second_url,
                )
                results["cross_node"] = cross
                results["cross_node_p50_ratio"] = cross["p50_ms"] / relay["p50_ms"]
                results["cross_node_p99_ratio"] = cross["p99_ms"] / relay["p99_ms"]
            if args.idle:
                waiting = await open_sessions(settings, args.idle)
                results["idle"] = await idle_memory(url, server.pid, waiting)
        finally:
            if second is not None:
                second.terminate()
                second.wait(20)
            server.terminate()
            echo.terminate()
            server.wait(20)
            echo.wait(20)
    print(json.dumps(results, indent=2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100, help="active sessions")
    parser.add_argument("--rate", type=float, default=1.0, help="messages/s/session")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration")
    parser.add_argument("--idle", type=int, default=1000, help="idle customers")
    parser.add_argument(
        "--cross-node",
        action="store_true",
        help="also run the load with customers and representatives on two "
        "different nodes (needs --broker-url)",
    )
    parser.add_argument(
        "--broker-url", default="", help="e.g. redis://127.0.0.1:6379/0"
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="FILE",
        help="sample the server with py-spy during the relay load (needs py-spy)",
    )
    parser.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.echo_server:
        asyncio.run(echo_server(arguments.echo_server))
    else:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        asyncio.run(main(arguments))
