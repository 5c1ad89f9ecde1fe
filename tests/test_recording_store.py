"""Shell recordings on disk and in the database, and `recordings verify`."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.recording import asciicast, store
from supportbox.recording.shell import ShellRecorder
from supportbox.storage.models import Recording


def open_session(server: LiveServer) -> str:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Jane"))
    return asyncio.run(hub.open_session(request)).lsid


def record(server: LiveServer, lsid: str, text: bytes) -> ShellRecorder:
    async def scenario() -> ShellRecorder:
        recorder = await ShellRecorder.start(
            server.runtime, lsid, 80, 24, {"SHELL": "/bin/sh"}
        )
        recorder.input(b"echo hi\r")
        recorder.output(text)
        recorder.resize(100, 30)
        await recorder.close()
        return recorder

    return asyncio.run(scenario())


def verify(server: LiveServer) -> subprocess.CompletedProcess[str]:
    flags = ["--data-dir", str(server.data_dir)]
    flags += ["--database-url", server.settings.database_url]
    return subprocess.run(
        [sys.executable, "-m", "supportbox", "recordings", "verify", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )


def test_each_shell_gets_its_own_file_and_a_row_with_its_hash(
    server: LiveServer,
) -> None:
    lsid = open_session(server)

    first = record(server, lsid, b"hi\r\n")
    second = record(server, lsid, b"again\r\n")

    assert (first.instance, second.instance) == (0, 1)
    with server.runtime.db() as db:
        rows = db.query(Recording).order_by(Recording.instance).all()
        assert [r.path for r in rows] == [
            f"recordings/{lsid}/shell-0.cast",
            f"recordings/{lsid}/shell-1.cast",
        ]
        for row in rows:
            content = (server.data_dir / row.path).read_bytes()
            assert row.kind == "shell"
            assert row.sha256 == hashlib.sha256(content).hexdigest()
            assert row.size == len(content)
            assert row.closed_at is not None and row.closed_at >= row.started_at
    cast = asciicast.parse(first.path.read_bytes().splitlines())
    assert cast.header["width"] == 80
    assert cast.header["env"] == {"SHELL": "/bin/sh"}
    assert cast.text() == "hi\r\n"
    assert cast.text("i") == "echo hi\r"
    assert cast.text("r") == "100x30"


def test_verify_passes_intact_recordings_and_names_changed_and_vanished_ones(
    server: LiveServer,
) -> None:
    lsid = open_session(server)
    first = record(server, lsid, b"one\r\n")
    second = record(server, lsid, b"two\r\n")
    record(server, lsid, b"three\r\n")

    intact = verify(server)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout == "3 recordings verified\n"

    with first.path.open("ab") as handle:
        handle.write(b'[9.0, "o", "tampered"]\n')
    second.path.unlink()
    broken = verify(server)

    assert broken.returncode == 1
    assert broken.stdout.splitlines() == [
        f"changed: recordings/{lsid}/shell-0.cast (session {lsid}, shell 0)",
        f"missing: recordings/{lsid}/shell-1.cast (session {lsid}, shell 1)",
    ]
    assert broken.stderr == ("supportbox: error: 2 of 3 recordings failed the check\n")


def test_verify_reports_recordings_still_being_written_without_failing(
    server: LiveServer, tmp_path: Path
) -> None:
    lsid = open_session(server)

    async def start_only() -> ShellRecorder:
        return await ShellRecorder.start(server.runtime, lsid, 80, 24)

    recorder = asyncio.run(start_only())
    result = verify(server)
    asyncio.run(recorder.close())

    assert result.returncode == 0
    assert result.stdout == "0 recordings verified; 1 still open, not checked\n"


def test_an_instance_number_is_not_reused_after_a_discard(server: LiveServer) -> None:
    lsid = open_session(server)
    runtime, settings = server.runtime, server.settings

    def new() -> store.NewRecording:
        with runtime.write_db() as db, db.begin():
            return store.create(db, settings, lsid, store.SCREEN, "mp4")

    first, second = new(), new()
    with runtime.write_db() as db, db.begin():
        store.discard(db, settings, first.id)
    third = new()

    assert (first.instance, second.instance, third.instance) == (0, 1, 2)
    assert second.path.exists() and third.path.name == "screen-2.mp4"
