"""Recording rows and files: where they live, opening and closing them.

A recording's ``path`` is stored relative to the data directory
(``recordings/<lsid>/shell-<instance>.cast``), so a data directory can
move; :func:`absolute` turns it back into a file name. Its ``sha256`` and
``size`` are set when it closes; a row without them is still recording
(or its server stopped before it could close it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportbox.errors import NotFound
from supportbox.recording.writer import Summary
from supportbox.settings import Settings
from supportbox.storage import sessions as session_store
from supportbox.storage.models import Recording

SHELL = "shell"
SCREEN = "screen"
PRESENTATION = "presentation"
FOLDER = "recordings"


@dataclass(frozen=True)
class NewRecording:
    id: int
    instance: int
    path: Path


def absolute(settings: Settings, row: Recording) -> Path:
    """The file of ``row``, which must lie inside the data directory.

    The stored path is relative to the data directory (an absolute one is
    taken as is); either way the resolved file must be under
    ``data_dir.resolve()``, else :class:`NotFound` — a row naming
    ``../../etc/passwd`` opens nothing.
    """
    root = settings.data_dir.resolve()
    try:
        target = (root / row.path).resolve()
    except (OSError, RuntimeError, ValueError):
        raise NotFound("the recording file is missing") from None
    if not target.is_relative_to(root) or target == root:
        raise NotFound("the recording file is missing")
    return target


def create_shell(db: Session, settings: Settings, lsid: str) -> NewRecording:
    """Add the row of the session's next shell recording and create its file.

    Locks the session row, so concurrent shells get distinct instances.
    Returns with the file created empty; the caller opens it for writing.
    """
    return create(db, settings, lsid, SHELL, "cast")


def create(
    db: Session, settings: Settings, lsid: str, kind: str, extension: str
) -> NewRecording:
    """Add the row of the session's next ``kind`` recording; create its file.

    Instances count from 0 per session and kind
    (``recordings/<lsid>/<kind>-<instance>.<extension>``); each is one past
    the highest so far, so a discarded recording's number is never reused
    while a later one exists.
    """
    session = session_store.lock(db, lsid)
    # one past the highest, not the count: discard() deletes rows
    highest = db.scalar(
        select(func.coalesce(func.max(Recording.instance), -1)).where(
            Recording.session_id == session.id, Recording.kind == kind
        )
    )
    instance = int(highest if highest is not None else -1) + 1
    relative = Path(FOLDER) / lsid / f"{kind}-{instance}.{extension}"
    target = settings.data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(exist_ok=False)
    row = Recording(
        session_id=session.id,
        kind=kind,
        instance=instance,
        path=relative.as_posix(),
        started_at=time.time(),
    )
    db.add(row)
    db.flush()
    return NewRecording(row.id, instance, target)


def close(db: Session, recording_id: int, summary: Summary) -> None:
    """Store the hash and size of a recording that has been written."""
    seal(db, recording_id, summary.sha256, summary.size)


def seal(db: Session, recording_id: int, sha256: str, size: int) -> None:
    """Store the hash and size of a written file; see :func:`close`."""
    row = db.get(Recording, recording_id, with_for_update=True)
    if row is None:
        return
    row.sha256 = sha256
    row.size = size
    row.closed_at = time.time()


def discard(db: Session, settings: Settings, recording_id: int) -> None:
    """Remove a recording that holds nothing: its row and its file."""
    row = db.get(Recording, recording_id, with_for_update=True)
    if row is None:
        return
    absolute(settings, row).unlink(missing_ok=True)
    db.delete(row)


def shell_recording(db: Session, lsid: str, instance: int) -> Recording | None:
    session = session_store.get(db, lsid)
    return db.scalar(
        select(Recording).where(
            Recording.session_id == session.id,
            Recording.kind == SHELL,
            Recording.instance == instance,
        )
    )
