"""The chat transcript of a session, as plain text and as an HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core import events as names
from supportbox.errors import NotFound, SessionStateError
from supportbox.storage.models import SessionEvent, SupportSession


@dataclass(frozen=True)
class Line:
    at: str
    speaker: str
    text: str


@dataclass(frozen=True)
class Transcript:
    lsid: str
    started: str
    ended: str
    lines: list[Line]

    def as_text(self) -> str:
        head = [
            f"Chat transcript of support session {self.lsid}",
            f"Started: {self.started}",
            f"Ended:   {self.ended}",
            "",
        ]
        body = [f"[{line.at}] {line.speaker}: {line.text}" for line in self.lines]
        return "\n".join(head + body) + "\n"


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(int(moment), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def load(db: Session, lsid: str) -> Transcript:
    """The transcript of an ended session; :class:`NotFound` otherwise."""
    session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
    if session is None:
        raise NotFound("no session matches this link")
    if session.end_time is None:
        raise SessionStateError("the session has not ended yet")
    chats = db.execute(
        select(SessionEvent.timestamp, SessionEvent.performed_by, SessionEvent.body)
        .where(
            SessionEvent.session_id == session.id,
            SessionEvent.event_type == names.CHAT_MESSAGE,
        )
        .order_by(SessionEvent.seq)
    )
    lines = [
        Line(_clock(at), str((actor or {}).get("name", "")), body or "")
        for at, actor, body in chats
    ]
    return Transcript(lsid, _clock(session.start_time), _clock(session.end_time), lines)


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("supportbox", "web/templates"),
        autoescape=select_autoescape(["html"]),
    )


def as_html(transcript: Transcript) -> str:
    template = _templates().get_template("session_transcript.html")
    return template.render(transcript=transcript)
