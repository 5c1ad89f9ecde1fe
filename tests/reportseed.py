"""Sessions written straight into storage, as the session hub writes them.

Report tests use this until they can drive a real session; the rows are
those the hub stores (support_session, participant, session_event,
survey_response, recording), with events in the stored shapes of
docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.core import events as names
from supportbox.storage.models import (
    Participant,
    PublicSite,
    Recording,
    SessionEvent,
    SupportSession,
    SurveyResponse,
    User,
)


@dataclass
class Person:
    """A customer (``user`` None) or a representative (``user`` = username)."""

    name: str
    user: str | None = None
    gsnumber: int = 0
    joined: float | None = None
    left: float | None = None
    public_ip: str = "203.0.113.7:50123"
    private_ip: str = "10.0.0.4"
    hostname: str = "JANE-PC"
    os: str = "Windows 11 Pro"
    info: dict[str, Any] = field(default_factory=dict)
    primary: bool = True
    owner: bool = False
    invited: bool = False


@dataclass
class Seeded:
    id: int
    lsid: str


def actor(person: Person) -> dict[str, Any]:
    kind = names.CUSTOMER if person.user is None else names.REPRESENTATIVE
    return {"type": kind, "gsnumber": person.gsnumber, "name": person.name}


def seed(
    db: Session,
    *,
    start: float,
    end: float | None = None,
    people: Sequence[Person] = (),
    chats: Sequence[tuple[float, int, str]] = (),
    extra_events: Sequence[dict[str, Any]] = (),
    external_key: str = "",
    custom: dict[str, str] | None = None,
    site: str | None = "Support",
    surveys: Sequence[tuple[str, int, float, dict[str, Any]]] = (),
    recordings: Sequence[tuple[str, int, str]] = (),
    queue: tuple[str, int | None] = ("general", None),
    files: tuple[int, int, int] = (0, 0, 0),
) -> Seeded:
    """Write one session; ``chats`` are ``(time, gsnumber, body)``."""
    site_id = None
    if site is not None:
        site_id = db.scalar(select(PublicSite.id).where(PublicSite.name == site))
    session = SupportSession(
        lsid=ids.new_lsid(),
        status="ended" if end is not None else "active",
        public_site_id=site_id,
        start_time=start,
        end_time=end,
        queue_kind=queue[0],
        queue_ref=queue[1],
        external_key=external_key,
        custom=custom or {},
        file_transfer_count=files[0],
        file_move_count=files[1],
        file_delete_count=files[2],
    )
    db.add(session)
    db.flush()

    by_gs: dict[int, Person] = {}
    for number, person in enumerate(people, start=1):
        person.gsnumber = person.gsnumber or number
        by_gs[person.gsnumber] = person
        user = None
        if person.user is not None:
            user = db.scalar(select(User).where(User.username == person.user))
            assert user is not None, person.user
        joined = person.joined if person.joined is not None else start
        left = person.left if person.left is not None else end
        db.add(
            Participant(
                session_id=session.id,
                gsnumber=person.gsnumber,
                kind="customer" if user is None else "representative",
                user_id=user.id if user else None,
                name=person.name,
                username=user.username if user else "jcustomer",
                private_display_name=user.private_display_name if user else "",
                public_ip=person.public_ip,
                private_ip=person.private_ip,
                hostname=person.hostname,
                os=person.os,
                info=person.info,
                is_primary=person.primary,
                session_owner=person.owner,
                invited=person.invited,
                joined_at=joined,
                left_at=left,
                seconds_involved=int(left - joined) if left is not None else 0,
            )
        )
    session.next_gsnumber = len(people) + 1

    stored: list[dict[str, Any]] = [
        {"timestamp": start, "event_type": names.SESSION_START}
    ]
    for person in people:
        joined = person.joined if person.joined is not None else start
        stored.append(
            {
                "timestamp": joined,
                "event_type": names.MEMBER_ADDED,
                "destination": actor(person),
                "data": [["public_name", person.name], ["os", person.os]],
            }
        )
    for at, gsnumber, body in chats:
        stored.append(
            {
                "timestamp": at,
                "event_type": names.CHAT_MESSAGE,
                "performed_by": actor(by_gs[gsnumber]),
                "body": body,
            }
        )
    stored.extend(extra_events)
    if end is not None:
        stored.append({"timestamp": end, "event_type": names.SESSION_END})
    stored.sort(key=lambda e: e["timestamp"])
    for seq, event in enumerate(stored, start=1):
        db.add(SessionEvent(session_id=session.id, seq=seq, **event))

    for survey, gsnumber, at, answers in surveys:
        db.add(
            SurveyResponse(
                session_id=session.id,
                survey=survey,
                gsnumber=gsnumber,
                submitted_at=at,
                answers=answers,
            )
        )
    for kind, instance, path in recordings:
        db.add(
            Recording(
                session_id=session.id,
                kind=kind,
                instance=instance,
                path=path,
                started_at=start,
                closed_at=end,
            )
        )
    db.flush()
    return Seeded(session.id, session.lsid)
