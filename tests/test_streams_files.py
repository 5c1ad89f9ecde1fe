"""Files both ways through the real server: hashes, counts, refusals."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from livekit import open_session, stored_events
from serverkit import LiveServer
from streamkit import Side, customer, representative
from supportbox.storage.models import SupportSession
from supportbox.streams import frames

IDS = itertools.count(1)


async def upload(
    rep: Side, lsid: str, path: str, body: bytes, **extra: Any
) -> dict[str, Any]:
    """Send ``body`` as ``path``; the final ``file_done`` or ``file_failed``."""
    ident = f"u{next(IDS)}"
    await rep.send("file_send", lsid=lsid, path=path, size=len(body), id=ident, **extra)
    answer = await rep.expect_any("ok", "error", re=ident)
    if answer["type"] == "error":
        return answer
    channel = answer["channel"]
    result = await rep.expect_any("file_accepted", "file_failed", channel=channel)
    if result["type"] == "file_failed":
        return result
    for index, start in enumerate(range(0, len(body), 64 * 1024)):
        await rep.ws.send(
            frames.encode(channel, index, body[start : start + 64 * 1024])
        )
    await rep.send("file_end", channel=channel, sha256=hashlib.sha256(body).hexdigest())
    return await rep.expect_any("file_done", "file_failed", channel=channel)


async def download(rep: Side, lsid: str, path: str) -> tuple[dict[str, Any], bytes]:
    ident = f"d{next(IDS)}"
    await rep.send("file_fetch", lsid=lsid, path=path, id=ident)
    channel = (await rep.expect("ok", re=ident))["channel"]
    first = await rep.expect_any("file_accepted", "file_failed", channel=channel)
    if first["type"] == "file_failed":
        return first, b""
    received = bytearray()
    digest = hashlib.sha256()
    while len(received) < first["size"]:
        number, _chunk, data = frames.decode(await asyncio.wait_for(rep.data.get(), 10))
        assert number == channel
        received += data
        digest.update(data)
    end = await rep.expect("file_end", channel=channel)
    assert end["sha256"] == digest.hexdigest()
    return end, bytes(received)


async def session(
    server: LiveServer, folder: Path, **options: Any
) -> tuple[str, Side, Side]:
    opened = open_session(server)
    cust = await customer(server, opened, files_dir=folder, **options)
    rep = await representative(server)
    await rep.send("accept", lsid=opened.lsid, id="a")
    await rep.expect("ok", re="a")
    return opened.lsid, cust, rep


def transfer_count(server: LiveServer, lsid: str) -> int:
    with server.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None
        return row.file_transfer_count


def test_files_go_both_ways_with_matching_hashes_and_are_counted(
    server: LiveServer, tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    (folder / "logs").mkdir(parents=True)
    theirs = os.urandom(700_000)
    (folder / "logs" / "app.log").write_bytes(theirs)
    ours = os.urandom(300_000)

    async def scenario() -> tuple[str, dict[str, Any], bytes]:
        lsid, cust, rep = await session(server, folder)
        done = await upload(rep, lsid, "logs/fix.bin", ours)
        assert done["type"] == "file_done", done
        _end, fetched = await download(rep, lsid, "logs/app.log")
        await rep.event("File Download")
        await cust.close()
        await rep.close()
        return lsid, done, fetched

    lsid, done, fetched = asyncio.run(scenario())

    placed = folder / "logs" / "fix.bin"
    assert hashlib.sha256(placed.read_bytes()).hexdigest() == done["sha256"]
    assert done["sha256"] == hashlib.sha256(ours).hexdigest()
    assert hashlib.sha256(fetched).hexdigest() == hashlib.sha256(theirs).hexdigest()
    events = {e.event_type: e for e in stored_events(server, lsid)}
    sent = events["File Upload"]
    assert (sent.filename, sent.filesize) == ("logs/fix.bin", len(ours))
    assert dict(map(tuple, sent.data)) == {
        "path": "logs/fix.bin",
        "filename": "fix.bin",
        "filesize": str(len(ours)),
    }
    assert sent.performed_by is not None
    assert sent.performed_by["type"] == "representative"
    assert events["File Download"].filesize == len(theirs)
    assert transfer_count(server, lsid) == 2


def test_refusals_reach_the_rep_as_failed_events_and_leave_no_file(
    server: LiveServer, tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "exists.txt").write_text("keep")
    (tmp_path / "secret.txt").write_text("private")
    os.symlink(tmp_path / "secret.txt", folder / "escape.txt")

    async def scenario() -> tuple[str, list[dict[str, Any]]]:
        lsid, cust, rep = await session(server, folder, max_size=1000)
        results = [
            await upload(rep, lsid, "../planted.txt", b"x"),
            await upload(rep, lsid, "exists.txt", b"new"),
            await upload(rep, lsid, "big.bin", b"x" * 1001),
            (await download(rep, lsid, "escape.txt"))[0],
            (await download(rep, lsid, "/etc/passwd"))[0],
            (await download(rep, lsid, "missing.txt"))[0],
        ]
        await cust.close()
        await rep.close()
        return lsid, results

    lsid, results = asyncio.run(scenario())

    assert [r["type"] for r in results] == ["file_failed"] * 6
    assert [r["reason"] for r in results] == [
        "the path leaves the allowed folder (..)",
        "the file exists and overwriting was not requested",
        "the file is larger than the limit of 1000 bytes",
        "a symbolic link leads outside the allowed folder",
        "absolute paths are not allowed",
        "the file does not exist",
    ]
    assert (folder / "exists.txt").read_text() == "keep"
    assert not (tmp_path / "planted.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["escape.txt", "exists.txt"]
    failed = [e for e in stored_events(server, lsid) if e.event_type.endswith("Failed")]
    assert [(e.event_type, e.filename) for e in failed] == [
        ("File Upload Failed", "../planted.txt"),
        ("File Upload Failed", "exists.txt"),
        ("File Upload Failed", "big.bin"),
        ("File Download Failed", "escape.txt"),
        ("File Download Failed", "/etc/passwd"),
        ("File Download Failed", "missing.txt"),
    ]
    assert dict(map(tuple, failed[2].data))["filesize"] == "1001"
    assert transfer_count(server, lsid) == 0


def test_a_server_size_limit_refuses_before_any_data_moves(
    server: LiveServer, tmp_path: Path
) -> None:
    async def scenario() -> tuple[str, dict[str, Any]]:
        lsid, cust, rep = await session(server, tmp_path)
        limit = server.settings.max_transfer_size
        await rep.send("file_send", lsid=lsid, path="huge.iso", size=limit + 1, id="h")
        answer = await rep.expect("error", re="h")
        event = await rep.event("File Upload Failed")
        await cust.close()
        await rep.close()
        assert event["filesize"] == limit + 1
        return lsid, answer

    _lsid, answer = asyncio.run(scenario())

    assert answer["code"] == "refused"
    assert "larger than the limit" in answer["message"]


def test_a_customer_who_allows_no_files_refuses_every_transfer(
    server: LiveServer, tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()

    async def scenario() -> dict[str, Any]:
        lsid, cust, rep = await session(server, folder, allow=("shell",))
        result = await upload(rep, lsid, "a.txt", b"abc")
        await cust.close()
        await rep.close()
        return result

    result = asyncio.run(scenario())

    assert (
        result.get("reason", result.get("message"))
        == "the customer does not allow file transfer"
    ), result
    assert list(folder.iterdir()) == []
