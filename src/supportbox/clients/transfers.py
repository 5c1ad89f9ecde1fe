"""The representative's file transfers: ``/send`` and ``/fetch``.

A file sent is read and hashed in chunks as it goes out; the customer's
client and the server both check its size and SHA-256, and the
``file_done`` answer carries the hash the server computed, which must
equal ours. A file fetched is written under a hidden ``.part`` name
(:class:`~supportbox.transfer.files.IncomingFile`) and appears under its
name only when its size and SHA-256 match the server's ``file_end``.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportbox.clients.link import Link
from supportbox.errors import TransferRefused
from supportbox.streams import frames
from supportbox.transfer.files import IncomingFile, read_chunks

#: Bytes per binary frame sent.
CHUNK = frames.MAX_CHUNK


@dataclass
class Upload:
    local: Path
    remote: str
    size: int
    sha256: str = ""
    task: asyncio.Task[None] | None = None


@dataclass
class Download:
    remote: str
    local: Path
    incoming: IncomingFile | None = None
    size: int = 0


def upload_source(local: str) -> tuple[Path, int]:
    """The local file to send and its size; TransferRefused if unusable."""
    path = Path(local).expanduser()
    try:
        info = path.stat()
    except OSError as exc:
        raise TransferRefused(f"cannot read {local}: {exc.strerror}", local) from None
    if not path.is_file():
        raise TransferRefused(f"{local} is not a regular file", local)
    return path, info.st_size


def download_target(remote: str, local: str) -> Path:
    """Where a fetched file goes: ``local``, or into it if it is a folder."""
    path = Path(local).expanduser()
    if path.is_dir():
        path = path / posixpath.basename(remote.replace("\\", "/"))
    if path.exists():
        raise TransferRefused(f"{path} exists; choose another name", remote)
    if not path.parent.is_dir():
        raise TransferRefused(f"the folder {path.parent} does not exist", remote)
    return path


async def stream(link: Link, channel: int, upload: Upload) -> None:
    """Send the file's bytes on ``channel``, then ``file_end`` with its hash."""
    digest = hashlib.sha256()
    chunks = read_chunks(upload.local, CHUNK)
    index = 0
    while block := await asyncio.to_thread(next, chunks, b""):
        digest.update(block)
        await link.send_bytes(frames.encode(channel, index, block))
        index += 1
    upload.sha256 = digest.hexdigest()
    await link.command("file_end", channel=channel, sha256=upload.sha256)


def finish_download(download: Download, sha256: str) -> dict[str, Any]:
    """Check and place a fetched file; the outcome as a ``transfer_*`` line."""
    assert download.incoming is not None
    try:
        download.incoming.finish(sha256)
    except TransferRefused as exc:
        return failed("fetch", download.remote, str(download.local), exc.reason)
    return {
        "type": "transfer_done",
        "direction": "fetch",
        "remote": download.remote,
        "local": str(download.local),
        "size": download.incoming.size,
        "sha256": download.incoming.sha256,
        "match": True,
    }


def failed(direction: str, remote: str, local: str, reason: str) -> dict[str, Any]:
    return {
        "type": "transfer_failed",
        "direction": direction,
        "remote": remote,
        "local": local,
        "reason": reason,
    }


def describe(outcome: dict[str, Any]) -> str:
    """A ``transfer_done`` / ``transfer_failed`` line for a person."""
    if outcome["type"] == "transfer_failed":
        verb = "sending" if outcome["direction"] == "send" else "fetching"
        return f"! {verb} {outcome['remote']} failed: {outcome['reason']}"
    if outcome["direction"] == "send":
        what = f"sent {outcome['local']} to {outcome['remote']}"
    else:
        what = f"fetched {outcome['remote']} to {outcome['local']}"
    check = "matches" if outcome["match"] else "DOES NOT match"
    return (
        f"* {what}: {outcome['size']} bytes, sha256 {outcome['sha256']} "
        f"({check} on both ends)"
    )
