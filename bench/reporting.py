"""Benchmark: SupportSession for a whole window through the real server.

Seeds N sessions of about 20 events each (one transaction: executemany
on SQLite, COPY on PostgreSQL), starts ``supportbox serve`` as a separate
process, pulls the SupportSession report for the whole window over HTTP
and prints sessions per second and the server's peak RSS during the
report, next to a plain SQLAlchemy read of the same rows in the same run
(the ratio is plain-read time over report time). Runs on SQLite, and on
the local PostgreSQL when it answers. docs/performance.md has the figures.

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
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnDefault,
    Connection,
    Engine,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from supportbox.storage.models import (
    Participant,
    Recording,
    SessionEvent,
    SupportSession,
    SurveyResponse,
)

ROOT = Path(__file__).resolve().parent.parent
SUPPORTBOX = ROOT / ".venv" / "bin" / "supportbox"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START = 1_700_000_000.0
CHUNK = 5000


def run_cli(*args: str) -> None:
    subprocess.run([str(SUPPORTBOX), *args], check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def actor(kind: str, gs: int, name: str) -> dict[str, Any]:
    return {"type": kind, "gsnumber": gs, "name": name}


def _bound_defaults(table: Table) -> dict[str, Any]:
    """What SQLAlchemy binds for a column a row leaves out.

    JSON columns are bound as the text SQLAlchemy's JSON type stores
    (``json.dumps``); a JSON ``None`` becomes ``null``, as when the session
    hub writes ``None``.
    """
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        value = None
        if isinstance(default, ColumnDefault):
            value = default.arg(None) if default.is_callable else default.arg
        values[column.name] = json.dumps(value) if _is_json(column) else value
    return values


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


class Bulk:
    """Rows of one table as tuples: the per-row columns, then a fixed tail.

    Every session of the benchmark has the same people and the same events
    at shifted times, so each table's rows are a few per-row values (ids,
    times) followed by a tail computed once, JSON already encoded.
    """

    def __init__(self, model: Any, varying: tuple[str, ...]) -> None:
        self.table: Table = model.__table__
        self.defaults = _bound_defaults(self.table)
        auto = {c.name for c in self.table.primary_key if c.name not in varying}
        self.fixed = [
            c.name for c in self.table.columns if c.name not in (*varying, *auto)
        ]
        self.names = [*varying, *self.fixed]

    def tail(self, values: dict[str, Any]) -> tuple[Any, ...]:
        unknown = set(values) - set(self.fixed)
        assert not unknown, f"{self.table.name}: unknown columns {unknown}"
        json_columns = {c.name for c in self.table.columns if _is_json(c)}
        return tuple(
            (json.dumps(values[name]) if name in json_columns else values[name])
            if name in values
            else self.defaults[name]
            for name in self.fixed
        )

    def insert(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        """One ``executemany`` on SQLite, one ``COPY`` on PostgreSQL."""
        columns = ", ".join(f'"{name}"' for name in self.names)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            if conn.dialect.name == "postgresql":
                sql = f'COPY "{self.table.name}" ({columns}) FROM STDIN'
                with cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.names))
                sql = f'INSERT INTO "{self.table.name}" ({columns}) VALUES ({marks})'
                cursor.executemany(sql, rows)
        finally:
            cursor.close()


SESSIONS = Bulk(
    SupportSession, ("id", "lsid", "start_time", "end_time", "external_key")
)
PEOPLE = Bulk(Participant, ("session_id", "joined_at", "left_at"))
EVENTS = Bulk(SessionEvent, ("session_id", "seq", "timestamp"))

CUSTOMER = actor("customer", 1, "Jane Customer")
REP = actor("representative", 2, "Alice")
SESSION_TAIL = SESSIONS.tail(
    {
        "status": "ended",
        "public_site_id": 1,
        "custom": {"priority": "High"},
        "file_transfer_count": 1,
    }
)
_PERSON = {
    "public_ip": "203.0.113.7:50123",
    "private_ip": "10.0.0.4",
    "os": "Windows 11 Pro",
    "seconds_involved": 900,
}
#: (seconds after the start the person joined, the rest of the row)
PEOPLE_TAILS = [
    (
        0.0,
        PEOPLE.tail(
            _PERSON
            | {
                "gsnumber": 1,
                "kind": "customer",
                "name": "Jane Customer",
                "username": "jane",
                "hostname": "JANE-PC",
                "info": {"name": "Jane Customer", "company": "Acme"},
                "is_primary": True,
            }
        ),
    ),
    (
        20.0,
        PEOPLE.tail(
            _PERSON
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
            }
        ),
    ),
]


def _event_plan() -> list[dict[str, Any]]:
    """The 20 events of every session, as the hub stores them."""
    plan: list[dict[str, Any]] = [
        {"event_type": "Session Start"},
        {
            "event_type": "Conference Owner Changed",
            "destination": actor("system", 0, "Pre-start Conference"),
            "data": [["owner", "Pre-start Conference"]],
        },
        {"event_type": "Conference Member Added", "destination": CUSTOMER},
        {
            "event_type": "Conference Member Added",
            "destination": REP,
            "data": [["public_name", "Alice"], ["user_id", "1"]],
        },
    ]
    for i in range(12):
        speaker, other = (REP, CUSTOMER) if i % 2 == 0 else (CUSTOMER, REP)
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
            "performed_by": REP,
            "filename": "C:\\Temp\\driver.exe",
            "filesize": 1024000,
        },
        {"event_type": "Session Note Added", "performed_by": REP, "body": "Fixed"},
        {"event_type": "Conference Member Departed", "destination": CUSTOMER},
        {"event_type": "Session End"},
    ]
    # The hub writes every event column, None included (JSON null).
    blank = {"performed_by": None, "destination": None, "system_information": None}
    return [blank | event for event in plan]


EVENT_TAILS = [EVENTS.tail(event) for event in _event_plan()]


def session_rows(first: int, count: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Rows for sessions ``first .. first+count-1``, as the hub writes them."""
    sessions, people, events = [], [], []
    for lseq in range(first, first + count):
        start = START + lseq * 3.0
        end = start + 900.0
        sessions.append(
            (lseq, uuid.uuid4().hex, start, end, f"INC{lseq:07d}", *SESSION_TAIL)
        )
        for joined, tail in PEOPLE_TAILS:
            people.append((lseq, start + joined, end, *tail))
        for seq, tail in enumerate(EVENT_TAILS, start=1):
            events.append((lseq, seq, start + seq * 40, *tail))
    return sessions, people, events


def seed(engine: Engine, total: int) -> float:
    """Write ``total`` sessions in one transaction; returns the seconds taken."""
    began = time.perf_counter()
    with engine.begin() as conn:
        for first in range(1, total + 1, CHUNK):
            sessions, people, events = session_rows(
                first, min(CHUNK, total + 1 - first)
            )
            SESSIONS.insert(conn, sessions)
            PEOPLE.insert(conn, people)
            EVENTS.insert(conn, events)
        if conn.dialect.name == "postgresql":
            # Explicit ids leave the LSEQ sequence behind; catch it up.
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('support_session', 'id'),"
                    " (SELECT max(id) FROM support_session))"
                )
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    return time.perf_counter() - began


#: Participant columns the live session needs and reports do not read.
LIVE_ONLY = ("id", "teams", "token_hash", "node_id", "present", "connected")


def plain_read(engine: Engine, decode_events: bool = False) -> tuple[float, int]:
    """The rows the report reads, with plain SQLAlchemy Core, and no XML.

    The same tables, columns, batches and order as the report: sessions
    500 at a time in LSEQ order (keyset), then the participants, events,
    surveys and recordings of the batch with one query per table, which
    picks the batch's ids as the report does (a list, one array parameter
    on PostgreSQL), so neither side has a faster filter than the other.

    Values come as the models' types give them, except that the JSON
    columns of events come as their stored text, as the report fetches
    them. With ``decode_events`` they are decoded too, which is what a
    read of whole typed rows costs (the report decodes each distinct
    value once instead).
    """
    s = SupportSession.__table__.c
    p = Participant.__table__.c
    e = SessionEvent.__table__.c
    v = SurveyResponse.__table__.c
    r = Recording.__table__.c
    pg = engine.dialect.name == "postgresql"

    def among(column: Any, ids: list[int]) -> Any:
        span = and_(column >= ids[0], column <= ids[-1])
        if pg:
            array = bindparam("ids", ids, type_=ARRAY(BigInteger))
            return and_(span, column == any_(array))
        return and_(span, column.in_(ids))

    event_columns = [
        c if decode_events or not _is_json(c) else cast(c, Text).label(c.name)
        for c in e
        if c.name not in ("id", "seq")
    ]
    related = [
        (
            p.session_id,
            select(*[c for c in p if c.name not in LIVE_ONLY]).order_by(
                p.session_id, p.gsnumber
            ),
        ),
        (e.session_id, select(*event_columns).order_by(e.session_id, e.seq)),
        (v.session_id, select(*v).order_by(v.session_id, v.submitted_at, v.id)),
        (r.session_id, select(*r).order_by(r.session_id, r.kind, r.instance)),
    ]
    sessions = select(*s).where(s.start_time >= 0).order_by(s.id).limit(500)
    began = time.perf_counter()
    rows = 0
    last = 0
    with engine.connect() as conn:
        while True:
            batch = conn.execute(sessions.where(s.id > last)).all()
            if not batch:
                break
            ids = [row.id for row in batch]
            rows += len(batch)
            for column, query in related:
                rows += len(conn.execute(query.where(among(column, ids))).all())
            last = ids[-1]
    return time.perf_counter() - began, rows


class RssSampler(threading.Thread):
    """Samples a process's RSS every 20 ms; ``high_water`` is the kernel's peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.path = Path(f"/proc/{pid}/status")
        self.idle = 0
        self.peak = 0
        self.running = True

    def field(self, name: str) -> int:
        for line in self.path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def rss(self) -> int:
        return self.field("VmRSS")

    def high_water(self) -> int:
        return self.field("VmHWM")

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, self.rss())
            except OSError:
                return
            time.sleep(0.02)


def pull(
    url: str, creds: dict[str, str], sampler: RssSampler
) -> tuple[float, int, int]:
    """Pull the report; ``sampler`` runs from the request to the last byte.

    The token comes first and outside the sampling: checking the client
    secret (argon2, 64 MiB) is a login's cost, not the report's.
    """
    with httpx.Client(base_url=url, timeout=600) as http:
        token = http.post(
            "/oauth2/token",
            auth=(creds["client_id"], creds["client_secret"]),
            data={"grant_type": "client_credentials"},
        ).json()["access_token"]
        sampler.idle = sampler.rss()
        sampler.start()
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
        took = time.perf_counter() - began
        sampler.running = False
        sampler.join()
        return took, sessions, size


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
        if backend == "sqlite":
            # A page cache that holds the indexes while seeding (the default
            # 2 MB thrashes); the server under test keeps its own settings.
            event.listen(engine, "connect", _big_cache)
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
            took, got, size = pull(base, creds, sampler)
            high_water = sampler.high_water()
        finally:
            server.terminate()
            server.wait(10)
        plain, rows = plain_read(engine)
        typed, _ = plain_read(engine, decode_events=True)
        engine.dispose()
        assert got == total, f"report had {got} sessions, expected {total}"
        return {
            "backend": backend,
            "sessions": total,
            "report_seconds": took,
            "sessions_per_second": total / took,
            "megabytes": size / 1e6,
            "idle_rss_mb": sampler.idle / 1e6,
            "peak_rss_mb": sampler.peak / 1e6,
            "high_water_mb": high_water / 1e6,
            "plain_read_seconds": plain,
            "plain_rows": rows,
            "ratio": plain / took,
            "typed_read_seconds": typed,
            "typed_ratio": typed / took,
            "load": os.getloadavg(),
            "seed_seconds": seconds,
        }
    finally:
        if drop is not None:
            with drop[0].connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)'))
            drop[0].dispose()


def _big_cache(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA cache_size=-262144")


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
                f"peak during the report ({result['high_water_mb']:.0f} MB high-water "
                f"mark, login included); plain SQLAlchemy read "
                f"{result['plain_read_seconds']:.1f}s ({result['plain_rows']} rows), "
                f"ratio {result['ratio']:.2f}; with event JSON decoded "
                f"{result['typed_read_seconds']:.1f}s, ratio "
                f"{result['typed_ratio']:.2f}; load average "
                + " ".join(f"{x:.1f}" for x in result["load"]),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
