"""What the backup tests share: seeded sessions, table dumps, crafted archives."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, create_engine, inspect, select
from sqlalchemy.orm import Session

from supportbox.storage.models import (
    Base,
    Participant,
    Recording,
    SessionEvent,
    SupportSession,
    SurveyResponse,
    User,
)

T0 = 1_700_000_000.25


def seed_sessions(engine: Engine, data_dir: Path, count: int = 3) -> list[Path]:
    """``count`` ended sessions with participants, events, surveys and a
    recording each (the last one under an absolute path); returns the files."""
    files: list[Path] = []
    with Session(engine) as db, db.begin():
        alice = db.scalar(select(User).where(User.username == "alice"))
        assert alice is not None
        for n in range(count):
            start = T0 + n * 3600
            session = SupportSession(
                lsid=f"{n:032x}",
                status="ended",
                start_time=start,
                end_time=start + 754.5,
                external_key=f"INC{n:05d}",
                custom={"priority": "high", "n": n, "unicode": "Grüße ✓"},
            )
            db.add(session)
            db.flush()
            db.add_all(
                [
                    Participant(
                        session_id=session.id,
                        gsnumber=1,
                        kind="customer",
                        name=f"Customer {n}",
                        public_ip="203.0.113.7:50123",
                        info={"company": "Acme", "issue": "printer"},
                        is_primary=True,
                        joined_at=start,
                        left_at=start + 754.5,
                    ),
                    Participant(
                        session_id=session.id,
                        gsnumber=2,
                        kind="representative",
                        user_id=alice.id,
                        username="alice",
                        name="Alice",
                        is_primary=True,
                        session_owner=True,
                        joined_at=start + 12,
                        seconds_involved=742,
                    ),
                ]
            )
            customer = {"type": "customer", "gsnumber": 1, "name": f"Customer {n}"}
            rep = {"type": "representative", "gsnumber": 2, "name": "Alice"}
            db.add_all(
                [
                    SessionEvent(
                        session_id=session.id,
                        seq=1,
                        timestamp=start,
                        event_type="Session Start",
                        performed_by={"type": "system", "gsnumber": 0, "name": ""},
                    ),
                    SessionEvent(
                        session_id=session.id,
                        seq=2,
                        timestamp=start + 20,
                        event_type="Chat Message",
                        performed_by=rep,
                        destination=customer,
                        body="Hello <b>&amp;</b> welcome\nline two",
                    ),
                    SessionEvent(
                        session_id=session.id,
                        seq=3,
                        timestamp=start + 30,
                        event_type="File Upload",
                        performed_by=rep,
                        filename="report.pdf",
                        filesize=5_000_000_000,
                        data=[["path", "C:\\Users\\x\\report.pdf"]],
                    ),
                    SessionEvent(
                        session_id=session.id,
                        seq=4,
                        timestamp=start + 40,
                        event_type="Session Note Added",
                        performed_by=JSON.NULL,
                        body="",
                    ),
                    SessionEvent(
                        session_id=session.id,
                        seq=5,
                        timestamp=start + 50,
                        event_type="System Information Retrieved",
                        performed_by=rep,
                        system_information=[
                            {"name": "Overview", "fields": ["os"], "rows": [["Linux"]]}
                        ],
                    ),
                ]
            )
            db.add_all(
                [
                    SurveyResponse(
                        session_id=session.id,
                        survey="customer",
                        gsnumber=1,
                        submitted_at=start + 760,
                        answers={"rating": "5", "comments": f"thanks {n}"},
                    ),
                    SurveyResponse(
                        session_id=session.id,
                        survey="rep",
                        gsnumber=2,
                        submitted_at=start + 761,
                        answers={"resolved": "Yes"},
                    ),
                ]
            )
            relative = Path("recordings") / session.lsid / "shell-0.cast"
            full = data_dir / relative
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_bytes(
                b'{"version": 2, "width": 80, "height": 24}\n'
                + b'[0.5, "o", "$ ls\\r\\n"]\n' * (200 + n)
            )
            files.append(full)
            stored = str(full.resolve()) if n == count - 1 else relative.as_posix()
            db.add(
                Recording(
                    session_id=session.id,
                    kind="shell",
                    path=stored,
                    sha256=hashlib.sha256(full.read_bytes()).hexdigest(),
                    size=full.stat().st_size,
                    started_at=start + 100,
                    closed_at=start + 200,
                )
            )
    return files


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in key order; JSON cells say SQL NULL apart."""
    engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:"))
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            json_nulls = [c.is_(None) for c in table.c if isinstance(c.type, JSON)]
            query = select(*table.c, *json_nulls).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in conn.execute(query)]
    engine.dispose()
    return tables


def table_names(url: str) -> list[str]:
    """The tables of the database at ``url``; none for a missing SQLite file."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return []
    engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:"))
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def rewrite(
    source: Path,
    target: Path,
    manifest_edit: Callable[[dict[str, Any]], None] | None = None,
    member_edits: dict[str, Callable[[bytes], bytes]] | None = None,
) -> None:
    """A copy of a plain archive with members or the manifest changed, the
    checksums and row counts in the manifest kept consistent."""
    member_edits = member_edits or {}
    with zipfile.ZipFile(source) as old:
        manifest = json.loads(old.read("manifest.json"))
        contents = {
            name: old.read(name) for name in old.namelist() if name != "manifest.json"
        }
    for name, edit in member_edits.items():
        contents[name] = edit(contents[name])
        manifest["members"][name] = {
            "sha256": hashlib.sha256(contents[name]).hexdigest(),
            "size": len(contents[name]),
        }
        for table in manifest["tables"]:
            if table["member"] == name:
                table["rows"] = contents[name].count(b"\n")
    if manifest_edit is not None:
        manifest_edit(manifest)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in contents.items():
            new.writestr(name, data)
        new.writestr("manifest.json", json.dumps(manifest))
