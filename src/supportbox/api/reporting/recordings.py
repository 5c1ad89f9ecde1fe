"""The recording reports (spec 5.6): the file itself, or an ``<error>``.

SupportSessionRecording sends the screen recording (MP4),
ShowMyScreenRecording the customer's "show my screen" recording,
CommandShellRecording the asciicast v2 file of a shell and
PresentationSessionRecording a presentation's (MP4). Each takes
``instance`` (0-based, default 0): a session that shared its screen, or
opened a shell, several times has one recording per time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.api.reporting.context import Builder, FileBody, ReportContext
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput, NotFound, RecordingGone
from supportbox.recording import store
from supportbox.settings import Settings
from supportbox.storage.models import Recording, SupportSession

EXPIRED = "This recording has expired and can no longer be viewed or downloaded."
NO_RECORDING = "No recording exists for the given session."
NO_SESSION = "No session matches the given lsid."

#: kind -> (media type, file extension)
MEDIA = {
    "screen": ("video/mp4", "mp4"),
    "show_my_screen": ("video/mp4", "mp4"),
    "presentation": ("video/mp4", "mp4"),
    "shell": ("application/x-asciicast", "cast"),
}


@dataclass(frozen=True)
class Found:
    """A recording's row id (for the access trail) and its file."""

    recording_id: int
    body: FileBody


def find(
    db: Session, settings: Settings, lsid: str, kind: str, instance: int = 0
) -> Found:
    """The file of one recording, or :class:`NotFound` saying what is missing."""
    session_id = db.scalar(select(SupportSession.id).where(SupportSession.lsid == lsid))
    if session_id is None:
        raise NotFound(NO_SESSION)
    query = select(Recording).where(
        Recording.session_id == session_id,
        Recording.kind == kind,
        Recording.instance == instance,
    )
    row = db.scalar(query.order_by(Recording.id.desc()).limit(1))
    if row is None:
        raise NotFound(NO_RECORDING)
    try:
        path = store.absolute(settings, row)
    except NotFound:
        raise RecordingGone(EXPIRED) from None
    if not path.is_file():
        raise RecordingGone(EXPIRED)
    media_type, extension = MEDIA[kind]
    suffix = f"-{kind}-{instance}" if kind == "shell" else ""
    return Found(row.id, FileBody(path, media_type, f"{lsid}{suffix}.{extension}"))


def _instance(ctx: ReportContext) -> int:
    raw = ctx.param("instance") or "0"
    if not is_id(raw) or int(raw) > 1_000_000:
        raise InvalidInput(f"Invalid instance: {raw[:40]!r}; expected 0, 1, 2...")
    return int(raw)


def _lsid(ctx: ReportContext) -> str:
    lsids = ctx.lsids()
    if not lsids or len(lsids) != 1:
        raise InvalidInput("Missing lsid: give the lsid of one session.")
    return lsids[0]


def recording_report(kind: str) -> Builder:
    def build(ctx: ReportContext) -> FileBody:
        lsid = _lsid(ctx)
        instance = _instance(ctx)
        return find(ctx.db, ctx.settings, lsid, kind, instance).body

    return build
