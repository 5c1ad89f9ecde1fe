"""Benchmark: SupportSession for a whole window through the real server.

Seeds N sessions of about 20 events each (bulk inserts), starts
``supportbox serve`` as a separate process, pulls the SupportSession report
for the whole window over HTTP and prints sessions per second and the
server's peak RSS, next to a plain SQLAlchemy read of the same rows in
the same run. Runs on SQLite, and on the local PostgreSQL when it answers.

    .venv/bin/python bench/reporting.py               # 100,000 sessions
    .venv/bin/python bench/reporting.py --sessions 5000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, insert, select, text

from supportbox.storage.models import Participant, SessionEvent, SupportSession

ROOT = Path(__file__).resolve().parent.parent
SUPPORTBOX = ROOT / ".venv" / "bin" / "supportbox"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START = 1_700_000_000.0
CHUNK = 2000


def run_cli(*args: str) -> None:
    subprocess.run([str(SUPPORTBOX), *args], check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def actor(kind: str, gs: int, name: str) -> dict[str, Any]:
    return {"type": kind, "gsnumber": gs, "name": name}


def session_rows(
    first: int, count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for sessions ``first .. first+count-1``, as the hub writes them."""
    sessions, people, events = [], [], []
    cust, rep = (
        actor("customer", 1, "Jane Customer"),
        actor("representative", 2, "Alice"),
    )
    for lseq in range(first, first + count):
        start = START + lseq * 3.0
        end = start + 900.0
        sessions.append(
            {
                "id": lseq,
                "lsid": uuid.uuid4().hex,
                "status": "ended",
                "public_site_id": 1,
                "start_time": start,
                "end_time": end,
                "external_key": f"INC{lseq:07d}",
                "custom": {"priority": "High"},
                "file_transfer_count": 1,
            }
        )
        base = {
            "session_id": lseq,
            "public_ip": "203.0.113.7:50123",
            "private_ip": "10.0.0.4",
            "os": "Windows 11 Pro",
            "left_at": end,
            "seconds_involved": 900,
            "info": {},
            "user_id": None,
            "private_display_name": "",
            "session_owner": False,
        }
        people.append(
            base
            | {
                "gsnumber": 1,
                "kind": "customer",
                "name": "Jane Customer",
                "username": "jane",
                "hostname": "JANE-PC",
                "info": {"name": "Jane Customer", "company": "Acme"},
                "is_primary": True,
                "joined_at": start,
            }
        )
        people.append(
            base
            | {
                "gsnumber": 2,
                "kind": "representative",
                "user_id": 1,
                "name": "Alice",
                "username": "alice",
                "private_display_name": "Alice (Tech Support)",
                "hostname": "REP-LAPTOP",
                "is_primary": True,
                "session_owner": True,
                "joined_at": start + 20,
            }
        )
        plan: list[dict[str, Any]] = [
            {"event_type": "Session Start"},
            {
                "event_type": "Conference Owner Changed",
                "destination": actor("system", 0, "Pre-start Conference"),
                "data": [["owner", "Pre-start Conference"]],
            },
            {"event_type": "Conference Member Added", "destination": cust},
            {
                "event_type": "Conference Member Added",
                "destination": rep,
                "data": [["public_name", "Alice"], ["user_id", "1"]],
            },
        ]
        for i in range(12):
            speaker, other = (rep, cust) if i % 2 == 0 else (cust, rep)
            plan.append(
                {
                    "event_type": "Chat Message",
                    "performed_by": speaker,
                    "destination": other,
                    "body": f"Message {i} about the printer & the <driver>",
                }
            )
        plan += [
            {
                "event_type": "File Upload",
                "performed_by": rep,
                "filename": "C:\\Temp\\driver.exe",
                "filesize": 1024000,
            },
            {"event_type": "Session Note Added", "performed_by": rep, "body": "Fixed"},
            {"event_type": "Conference Member Departed", "destination": cust},
            {"event_type": "Session End"},
        ]
        for seq, event in enumerate(plan, start=1):
            events.append(
                {
                    "session_id": lseq,
                    "seq": seq,
                    "timestamp": start + seq * 40,
                    "performed_by": None,
                    "destination": None,
                    "body": None,
                    "filename": None,
                    "filesize": None,
                    "data": [],
                }
                | event
            )
    return sessions, people, events


def seed(engine: Engine, total: int) -> float:
    began = time.perf_counter()
    with engine.begin() as conn:
        for first in range(1, total + 1, CHUNK):
            sessions, people, events = session_rows(
                first, min(CHUNK, total + 1 - first)
            )
            conn.execute(insert(SupportSession), sessions)
            conn.execute(insert(Participant), people)
            conn.execute(insert(SessionEvent), events)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    return time.perf_counter() - began


def plain_read(engine: Engine) -> tuple[float, int]:
    """The same rows, read in batches of 500 with SQLAlchemy Core, no XML."""
    s = SupportSession.__table__
    p = Participant.__table__
    e = SessionEvent.__table__
    began = time.perf_counter()
    rows = 0
    last = 0
    with engine.connect() as conn:
        while True:
            batch = conn.execute(
                select(s).where(s.c.id > last).order_by(s.c.id).limit(500)
            ).all()
            if not batch:
                break
            ids = [r.id for r in batch]
            rows += len(batch)
            rows += len(conn.execute(select(p).where(p.c.session_id.in_(ids))).all())
            rows += len(conn.execute(select(e).where(e.c.session_id.in_(ids))).all())
            last = ids[-1]
    return time.perf_counter() - began, rows


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.path = Path(f"/proc/{pid}/status")
        self.peak = 0
        self.running = True

    def rss(self) -> int:
        for line in self.path.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.rss())
            except OSError:
                return
            time.sleep(0.02)


def pull(url: str, creds: dict[str, str]) -> tuple[float, int, int]:
    with httpx.Client(base_url=url, timeout=600) as http:
        token = http.post(
            "/oauth2/token",
            auth=(creds["client_id"], creds["client_secret"]),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        params = {
            "generate_report": "SupportSession",
            "start_time": "0",
            "duration": "0",
        }
        headers = {"Authorization": f"Bearer {token}"}
        began = time.perf_counter()
        sessions = size = 0
        tail = b""
        with http.stream("GET", "/api/reporting", params=params, headers=headers) as r:
            for chunk in r.iter_raw():
                size += len(chunk)
                sessions += (tail + chunk).count(b"<session lsid=")
                tail = chunk[-16:]
        return time.perf_counter() - began, sessions, size


def bench(backend: str, total: int, work: Path) -> dict[str, Any]:
    data_dir = work / backend
    data_dir.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{data_dir / 'supportbox.db'}"
        drop = None
    else:
        name = "sbbench_" + uuid.uuid4().hex[:8]
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        drop = (admin, name)
    try:
        run_cli("init", "--demo", "--data-dir", str(data_dir), "--database-url", url)
        creds = json.loads((data_dir / "demo-credentials.json").read_text())["api"]
        engine = create_engine(url)
        seconds = seed(engine, total)
        print(f"[{backend}] seeded {total} sessions in {seconds:.1f}s", flush=True)

        port = free_port()
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
            ],
        )
        sampler = RssSampler(server.pid)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(base + "/check_health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            idle = sampler.rss()
            sampler.start()
            took, got, size = pull(base, creds)
            sampler.running = False
            sampler.join()
        finally:
            server.terminate()
            server.wait(10)
        plain, rows = plain_read(engine)
        engine.dispose()
        assert got == total, f"report had {got} sessions, expected {total}"
        return {
            "backend": backend,
            "sessions": total,
            "report_seconds": took,
            "sessions_per_second": total / took,
            "megabytes": size / 1e6,
            "idle_rss_mb": idle / 1e6,
            "peak_rss_mb": sampler.peak / 1e6,
            "plain_read_seconds": plain,
            "plain_rows": rows,
            "ratio": plain / took,
            "seed_seconds": seconds,
        }
    finally:
        if drop is not None:
            with drop[0].connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))
            drop[0].dispose()


def postgres_answers() -> bool:
    try:
        engine = create_engine(PG_ADMIN, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument(
        "--backend", choices=["sqlite", "postgresql", "both"], default="both"
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not postgres_answers():
        print("PostgreSQL does not answer on 127.0.0.1:5432; skipping it")
        backends.remove("postgresql")
    with tempfile.TemporaryDirectory() as work:
        for backend in backends:
            result = bench(backend, args.sessions, Path(work))
            rate = result["sessions_per_second"]
            print(
                f"[{backend}] SupportSession: {result['sessions']} sessions in "
                f"{result['report_seconds']:.1f}s = {rate:.0f} "
                f"sessions/s ({result['megabytes']:.0f} MB of XML); server RSS "
                f"{result['idle_rss_mb']:.0f} MB idle, {result['peak_rss_mb']:.0f} MB "
                f"peak; plain SQLAlchemy read {result['plain_read_seconds']:.1f}s "
                f"({result['plain_rows']} rows); ratio {result['ratio']:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
