"""Presentations in the database.

A presentation is a ``support_session`` row of ``session_type``
"presentation": its presenter and attendees are its participants (kinds
``presenter`` and ``attendee``), its events the same vocabulary as a
support session's, and its recording a ``recording`` row of kind
"presentation". The ``presentation`` row holds the key attendees enter.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.core import events as ev
from supportbox.core.events import Actor, Event
from supportbox.errors import InvalidInput, SessionStateError
from supportbox.storage import sessions as session_store
from supportbox.storage.models import Participant, Presentation, SupportSession

SESSION_TYPE = "presentation"
PRESENTER = "presenter"
ATTENDEE = "attendee"

_SHORT_KEY = re.compile(r"[0-9]{7}")
_URL_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Opened:
    lsid: str
    short_key: str
    url_token: str
    presenter_gs: int


def start(
    db: Session, user_id: int, name: str, username: str, public_ip: str
) -> Opened:
    """A new live presentation of ``user_id`` with a fresh key; caller commits."""
    now = time.time()
    row = SupportSession(
        lsid=ids.new_lsid(),
        session_type=SESSION_TYPE,
        status="active",
        start_time=now,
        queue_kind="present",  # in no queue
        queue_name="Presentation",
        start_method="presentation",
        next_gsnumber=2,
        owner_gs=1,
    )
    db.add(row)
    db.flush()
    db.add(
        Participant(
            session_id=row.id,
            gsnumber=1,
            kind=PRESENTER,
            user_id=user_id,
            name=name,
            username=username,
            public_ip=public_ip,
            is_primary=True,
            session_owner=True,
            joined_at=now,
        )
    )
    key = Presentation(
        session_id=row.id, short_key=_free_key(db), url_token=ids.new_url_token()
    )
    db.add(key)
    start_event = Event(ev.SESSION_START, performed_by=Actor(PRESENTER, 1, name))
    session_store.append_events(db, row, [start_event])
    return Opened(row.lsid, key.short_key, key.url_token, 1)


def _free_key(db: Session) -> str:
    for _ in range(50):
        candidate = ids.new_short_key()
        taken = db.scalar(
            select(Presentation.id).where(
                Presentation.short_key == candidate, Presentation.live.is_(True)
            )
        )
        if taken is None:
            return candidate
    raise InvalidInput("no free presentation key could be found; try again")


def find_live(db: Session, code: str) -> str | None:
    """The lsid of the live presentation whose short key or URL token is ``code``."""
    code = code.strip().lower()
    if _SHORT_KEY.fullmatch(code):
        column = Presentation.short_key
    elif _URL_TOKEN.fullmatch(code):
        column = Presentation.url_token
    else:
        return None
    query = (
        select(SupportSession.lsid)
        .join(Presentation, Presentation.session_id == SupportSession.id)
        .where(column == code, Presentation.live.is_(True))
    )
    return db.scalar(query)


def join(db: Session, lsid: str, name: str, public_ip: str) -> int:
    """Add an attendee; returns its gsnumber.

    Raises :class:`SessionStateError` when the presentation has ended.
    """
    row = session_store.lock(db, lsid)
    if row.end_time is not None or row.session_type != SESSION_TYPE:
        raise SessionStateError("the presentation has ended")
    gs = row.next_gsnumber
    row.next_gsnumber += 1
    db.add(
        Participant(
            session_id=row.id,
            gsnumber=gs,
            kind=ATTENDEE,
            name=name,
            public_ip=public_ip,
            joined_at=time.time(),
        )
    )
    actor = Actor(ATTENDEE, gs, name)
    session_store.append_events(db, row, [Event(ev.MEMBER_ADDED, performed_by=actor)])
    return gs


def leave(db: Session, lsid: str, gs: int) -> None:
    """An attendee went (closed the page, lost the link)."""
    row = session_store.lock(db, lsid)
    found = session_store.participant(db, lsid, gs)
    if not found.present:
        return
    now = time.time()
    found.present = found.connected = False
    found.left_at = now
    found.seconds_involved = int(now - found.joined_at)
    actor = Actor(ATTENDEE, gs, found.name)
    event = Event(ev.MEMBER_DEPARTED, performed_by=actor)
    session_store.append_events(db, row, [event])


def end(db: Session, lsid: str) -> None:
    """The presentation ended: every participant leaves, the key dies."""
    row = session_store.lock(db, lsid)
    if row.end_time is not None:
        return
    now = time.time()
    for person in db.scalars(
        select(Participant).where(
            Participant.session_id == row.id, Participant.present.is_(True)
        )
    ):
        person.present = person.connected = False
        person.left_at = now
        person.seconds_involved = int(now - person.joined_at)
    key = db.scalar(select(Presentation).where(Presentation.session_id == row.id))
    if key is not None:
        key.live = False
    row.status, row.end_time = "ended", now
    session_store.append_events(db, row, [Event(ev.SESSION_END)])
