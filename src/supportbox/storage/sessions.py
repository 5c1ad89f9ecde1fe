"""Loading and saving live session state, and the queries the hub needs."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Row,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from supportbox.core.events import Actor, Event
from supportbox.core.queues import QueueRef
from supportbox.core.session import Member, SessionState
from supportbox.errors import NotFound
from supportbox.storage.models import (
    Participant,
    SessionEvent,
    SupportSession,
    TeamMember,
)


def lock(db: Session, lsid: str) -> SupportSession:
    """The session row, locked for update until the transaction ends."""
    row = db.scalar(
        select(SupportSession).where(SupportSession.lsid == lsid).with_for_update()
    )
    if row is None:
        raise NotFound(f"no session {lsid!r}")
    return row


def get(db: Session, lsid: str) -> SupportSession:
    row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
    if row is None:
        raise NotFound(f"no session {lsid!r}")
    return row


def participant(db: Session, lsid: str, gsnumber: int) -> Participant:
    row = db.scalar(
        select(Participant)
        .join(SupportSession, SupportSession.id == Participant.session_id)
        .where(SupportSession.lsid == lsid, Participant.gsnumber == gsnumber)
    )
    if row is None:
        raise NotFound(f"no participant {gsnumber} in session {lsid}")
    return row


def _member(p: Participant | Row[Any]) -> Member:
    return Member(
        gsnumber=p.gsnumber,
        kind=p.kind,
        name=p.name,
        user_id=p.user_id,
        username=p.username,
        private_name=p.private_display_name,
        present=p.present,
        connected=p.connected,
        invited=p.invited,
        is_primary=p.is_primary,
        teams=list(p.teams),
        public_ip=p.public_ip,
        private_ip=p.private_ip,
        hostname=p.hostname,
        os=p.os,
        info=dict(p.info),
    )


def load_state(db: Session, row: SupportSession) -> SessionState:
    participants = db.scalars(
        select(Participant).where(Participant.session_id == row.id)
    )
    return _state(row, participants)


def _state(
    row: SupportSession | Row[Any], participants: Iterable[Participant | Row[Any]]
) -> SessionState:
    return SessionState(
        lsid=row.lsid,
        queue=QueueRef(row.queue_kind, row.queue_ref),
        queue_name=row.queue_name,
        status=row.status,
        owner_gs=row.owner_gs,
        members={p.gsnumber: _member(p) for p in participants},
        next_gs=row.next_gsnumber,
        external_key=row.external_key,
        custom=dict(row.custom),
        priority=row.priority,
    )


# The events-only path: plain statements, no ORM objects. A chat line
# takes it, and chat is most of what a busy server writes.

_SESSION = cast(Table, SupportSession.__table__)
_PARTICIPANT = cast(Table, Participant.__table__)
_EVENT = cast(Table, SessionEvent.__table__)


@dataclass
class Head:
    """What appending events needs of a locked session row."""

    id: int
    last_seq: int


_LOCK = (
    select(_SESSION)
    .where(_SESSION.c.lsid.in_(bindparam("lsids", expanding=True)))
    .order_by(_SESSION.c.lsid)
    .with_for_update()
)
_MEMBERS = (
    select(_PARTICIPANT)
    .where(_PARTICIPANT.c.session_id.in_(bindparam("ids", expanding=True)))
    .order_by(_PARTICIPANT.c.session_id)
)
_ADD_EVENT = insert(_EVENT)
_SET_LAST_SEQ = (
    update(_SESSION)
    .where(_SESSION.c.id == bindparam("head"))
    .values(last_seq=bindparam("last_seq"))
)


def lock_for_events(
    db: Session, lsids: Iterable[str]
) -> dict[str, tuple[Head, SessionState]]:
    """Lock the rows of ``lsids`` and read their states, as :func:`lock`
    and :func:`load_state` do, for changes that only add events.

    Two statements for any number of sessions; the rows are locked in
    lsid order (the statement's ORDER BY), so two writers that share
    sessions cannot deadlock. An lsid that is not stored is missing from
    the answer.
    """
    conn = db.connection()
    rows = conn.execute(_LOCK, {"lsids": list(set(lsids))}).all()
    if not rows:
        return {}
    members: dict[int, list[Row[Any]]] = {row.id: [] for row in rows}
    for member in conn.execute(_MEMBERS, {"ids": list(members)}):
        members[member.session_id].append(member)
    return {
        row.lsid: (Head(row.id, row.last_seq), _state(row, members[row.id]))
        for row in rows
    }


def number_events(head: Head, events: Sequence[Event]) -> None:
    """Give ``events`` the sequence numbers after ``head``'s last."""
    for event in events:
        head.last_seq += 1
        event.seq = head.last_seq


def add_events(db: Session, numbered: Sequence[tuple[Head, Sequence[Event]]]) -> None:
    """Store events numbered by :func:`number_events`, with their heads'
    new last ``seq``: one statement for all the events, one for the heads."""
    rows = [_event_row(head.id, e) for head, events in numbered for e in events]
    if not rows:
        return
    heads = {head.id: head.last_seq for head, _events in numbered}
    conn = db.connection()
    conn.execute(_ADD_EVENT, rows)
    conn.execute(
        _SET_LAST_SEQ, [{"head": id_, "last_seq": seq} for id_, seq in heads.items()]
    )


def _event_row(session_id: int, event: Event) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": event.seq,
        "timestamp": event.timestamp,
        "event_type": event.event_type,
        "performed_by": _actor(event.performed_by),
        "destination": _actor(event.destination),
        "body": event.body,
        "filename": event.filename,
        "filesize": event.filesize,
        "data": [list(pair) for pair in event.data],
        "system_information": event.system_information,
    }


def save_state(
    db: Session, row: SupportSession, state: SessionState, events: Sequence[Event]
) -> None:
    """Write ``state`` back to ``row`` and its participants; store ``events``."""
    now = time.time()
    row.status = state.status
    row.queue_kind, row.queue_ref = state.queue.kind, state.queue.ref
    row.queue_name = state.queue_name
    row.owner_gs = state.owner_gs
    row.next_gsnumber = state.next_gs
    row.external_key = state.external_key
    row.custom = dict(state.custom)
    if state.status == "ended" and row.end_time is None:
        row.end_time = events[-1].timestamp if events else now

    stored = {
        p.gsnumber: p
        for p in db.scalars(select(Participant).where(Participant.session_id == row.id))
    }
    for member in state.members.values():
        participant = stored.get(member.gsnumber)
        if participant is None:
            participant = Participant(
                session_id=row.id, gsnumber=member.gsnumber, joined_at=now
            )
            db.add(participant)
        _copy_member(participant, member, state, now)

    append_events(db, row, events)


def append_events(db: Session, row: SupportSession, events: Sequence[Event]) -> None:
    """Store ``events`` after the session's last, numbering them.

    Enough on its own for changes that leave the session and its
    participants as they were (a chat line, a note, a survey).
    """
    for event in events:
        row.last_seq += 1
        event.seq = row.last_seq
        db.add(SessionEvent(**_event_row(row.id, event)))
    db.flush()


def _copy_member(p: Participant, m: Member, state: SessionState, now: float) -> None:
    if p.present and not m.present:
        p.left_at = now
        p.seconds_involved = int(now - p.joined_at)
    p.kind, p.name, p.user_id, p.username = m.kind, m.name, m.user_id, m.username
    p.private_display_name = m.private_name
    p.present, p.connected, p.invited = m.present, m.connected, m.invited
    p.is_primary, p.teams, p.info = m.is_primary, list(m.teams), dict(m.info)
    p.public_ip, p.private_ip = m.public_ip, m.private_ip
    p.hostname, p.os = m.hostname, m.os
    p.session_owner = p.session_owner or state.owner_gs == m.gsnumber


def _actor(actor: Actor | None) -> dict[str, object] | None:
    return None if actor is None else actor.as_dict()


def event_from_row(row: SessionEvent) -> Event:
    def actor(value: dict[str, object] | None) -> Actor | None:
        if value is None:
            return None
        return Actor(
            str(value["type"]), int(str(value["gsnumber"])), str(value["name"])
        )

    return Event(
        event_type=row.event_type,
        performed_by=actor(row.performed_by),
        destination=actor(row.destination),
        body=row.body,
        filename=row.filename,
        filesize=row.filesize,
        data=[(str(n), str(v)) for n, v in row.data],
        system_information=row.system_information,
        timestamp=row.timestamp,
        seq=row.seq,
    )


def events_since(db: Session, lsid: str, after_seq: int) -> list[Event]:
    row = get(db, lsid)
    query = (
        select(SessionEvent)
        .where(SessionEvent.session_id == row.id, SessionEvent.seq > after_seq)
        .order_by(SessionEvent.seq)
    )
    return [event_from_row(e) for e in db.scalars(query)]


def visible_queues(db: Session, user_id: int) -> list[QueueRef]:
    """The queues a representative sees: general, their own, their teams'."""
    team_ids = db.scalars(
        select(TeamMember.team_id).where(TeamMember.user_id == user_id)
    )
    return [
        QueueRef("general"),
        QueueRef("rep", user_id),
        *(QueueRef("team", team_id) for team_id in team_ids),
    ]


def waiting_in(db: Session, queues: Sequence[QueueRef]) -> list[SupportSession]:
    """Waiting sessions in any of ``queues``, oldest first."""
    conditions = [
        (SupportSession.queue_kind == q.kind)
        & (
            SupportSession.queue_ref.is_(None)
            if q.ref is None
            else SupportSession.queue_ref == q.ref
        )
        for q in queues
    ]
    query = (
        select(SupportSession)
        .where(SupportSession.status == "waiting", or_(*conditions))
        .order_by(SupportSession.priority, SupportSession.start_time)
    )
    return list(db.scalars(query))


def active_session_counts(db: Session) -> dict[int, int]:
    """Sessions each representative is in now, by user id."""
    query = (
        select(Participant.user_id, func.count())
        .join(SupportSession, SupportSession.id == Participant.session_id)
        .where(
            Participant.kind == "representative",
            Participant.present.is_(True),
            SupportSession.status != "ended",
        )
        .group_by(Participant.user_id)
    )
    return {int(user_id): int(count) for user_id, count in db.execute(query) if user_id}
