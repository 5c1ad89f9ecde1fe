"""Session events, named as the Reporting API names them (spec 5.3.1)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

SESSION_START = "Session Start"
SESSION_END = "Session End"
OWNER_CHANGED = "Conference Owner Changed"
MEMBER_ADDED = "Conference Member Added"
MEMBER_DEPARTED = "Conference Member Departed"
MEMBER_STATE_CHANGED = "Conference Member State Changed"
CHAT_MESSAGE = "Chat Message"
EXTERNAL_KEY = "External Key"
NOTE_ADDED = "Session Note Added"
AWAY_FROM_QUEUE = "Session Transferred Away from Queue"
TO_QUEUE = "Session Transferred to Queue"
SYSTEM_INFORMATION = "System Information Retrieved"
CUSTOMER_EXIT_SURVEY = "Customer Exit Survey"
REP_EXIT_SURVEY = "Representative Exit Survey"
SHELL_STARTED = "Command Shell Session Started"
FILE_UPLOAD = "File Upload"
FILE_UPLOAD_FAILED = "File Upload Failed"
FILE_DOWNLOAD = "File Download"
FILE_DOWNLOAD_FAILED = "File Download Failed"

#: Events only representatives receive live (customers never see notes).
REP_ONLY = frozenset({NOTE_ADDED, REP_EXIT_SURVEY, SYSTEM_INFORMATION})

#: The name of the system actor in chat and events; integrations match it.
SYSTEM_NAME = "Bomgar"

SYSTEM = "system"
CUSTOMER = "customer"
REPRESENTATIVE = "representative"


@dataclass(frozen=True)
class Actor:
    """Who performed an event, or whom it was aimed at."""

    type: str  # system, customer, representative
    gsnumber: int
    name: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "gsnumber": self.gsnumber, "name": self.name}

    @classmethod
    def system(cls, name: str = SYSTEM_NAME) -> Actor:
        return cls(SYSTEM, 0, name)


@dataclass
class Event:
    """One event of a session, before and after it is stored.

    ``seq`` is the event's position within its session (1, 2, ...), given
    when it is stored; live clients resume from the last ``seq`` they saw.
    ``data`` holds ``(name, value)`` pairs in document order.
    """

    event_type: str
    performed_by: Actor | None = None
    destination: Actor | None = None
    body: str | None = None
    filename: str | None = None
    filesize: int | None = None
    data: list[tuple[str, str]] = field(default_factory=list)
    system_information: list[dict[str, Any]] | None = None
    timestamp: float = field(default_factory=time.time)
    seq: int = 0

    def as_message(self) -> dict[str, Any]:
        """The event as a live protocol message body (JSON-ready)."""
        message: dict[str, Any] = {
            "seq": self.seq,
            "event_type": self.event_type,
            "timestamp": self.timestamp,
        }
        if self.performed_by is not None:
            message["performed_by"] = self.performed_by.as_dict()
        if self.destination is not None:
            message["destination"] = self.destination.as_dict()
        for name in ("body", "filename", "filesize", "system_information"):
            value = getattr(self, name)
            if value is not None:
                message[name] = value
        if self.data:
            message["data"] = dict(self.data)
        return message


class SessionObserver(Protocol):
    """Something that must learn of stored events in the same transaction.

    The hub calls every observer registered in ``runtime.observers`` after
    it has added a session's new events and before it commits, so what an
    observer writes (an outbound webhook delivery, say) is stored exactly
    when the events are. Observers must not commit or block on the network.
    """

    def on_events(
        self, db: Session, lsid: str, external_key: str, events: list[Event]
    ) -> None: ...
