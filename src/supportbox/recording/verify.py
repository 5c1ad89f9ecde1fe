"""Checking stored recordings against the hashes taken when they closed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.digests import file_sha256
from supportbox.errors import NotFound
from supportbox.recording.store import absolute
from supportbox.settings import Settings
from supportbox.storage.models import Recording, SupportSession

CHANGED = "changed"
MISSING = "missing"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class Finding:
    """The outcome for one recording; ``problem`` is None when it is intact."""

    lsid: str
    kind: str
    instance: int
    path: str
    problem: str | None = None
    open: bool = False

    def line(self) -> str:
        return (
            f"{self.problem}: {self.path} "
            f"(session {self.lsid}, {self.kind} {self.instance})"
        )


def check_all(db: Session, settings: Settings) -> Iterator[Finding]:
    """One finding per recording row, oldest first."""
    query = (
        select(Recording, SupportSession.lsid)
        .join(SupportSession, SupportSession.id == Recording.session_id)
        .order_by(Recording.id)
    )
    for row, lsid in db.execute(query):
        yield _check(settings, row, lsid)


def _check(settings: Settings, row: Recording, lsid: str) -> Finding:
    found = Finding(lsid, row.kind, row.instance, row.path)
    try:
        target = absolute(settings, row)
    except NotFound:  # it names a file outside the data directory
        return _with(found, MISSING)
    if not target.is_file():
        return _with(found, MISSING)
    if row.sha256 is None:
        # still being written, or its server stopped before closing it
        return Finding(lsid, row.kind, row.instance, row.path, open=True)
    try:
        digest, size = file_sha256(target)
    except OSError:
        return _with(found, UNREADABLE)
    if digest != row.sha256 or size != row.size:
        return _with(found, CHANGED)
    return found


def _with(found: Finding, problem: str) -> Finding:
    return Finding(found.lsid, found.kind, found.instance, found.path, problem)
