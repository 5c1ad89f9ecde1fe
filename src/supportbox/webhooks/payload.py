"""Which session events go out, under which name, with which fields (spec 7).

Every post carries ``event``, ``version``, ``timestamp``, ``event_id``,
``appliance_id``, ``lsid`` and ``external_key``. Member events add who
joined, left or took the session over; "send custom fields" adds every
configured custom field as ``session.custom.<code_name>``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core import events
from supportbox.core.events import Actor, Event
from supportbox.storage.models import CustomField, Participant, SupportSession

#: The schema version sent in ``version``; raised when fields change meaning.
VERSION = "1"

BEGIN = "support_conference_begin"
END = "support_conference_end"
MEMBER_ADDED = "support_conference_member_added"
MEMBER_DEPARTED = "support_conference_member_departed"
OWNER_CHANGED = "support_conference_owner_changed"
CUSTOMER_SURVEY = "support_conference_customer_exit_survey_completed"
REP_SURVEY = "support_conference_rep_exit_survey_completed"

#: Session event type (core.events) -> outbound event name.
OUTBOUND: dict[str, str] = {
    events.SESSION_START: BEGIN,
    events.SESSION_END: END,
    events.MEMBER_ADDED: MEMBER_ADDED,
    events.MEMBER_DEPARTED: MEMBER_DEPARTED,
    events.OWNER_CHANGED: OWNER_CHANGED,
    events.CUSTOMER_EXIT_SURVEY: CUSTOMER_SURVEY,
    events.REP_EXIT_SURVEY: REP_SURVEY,
}

#: Every outbound event name, in the order the docs list them.
NAMES: tuple[str, ...] = tuple(OUTBOUND.values())

MEMBER_EVENTS = frozenset({MEMBER_ADDED, MEMBER_DEPARTED, OWNER_CHANGED})

Fields = list[tuple[str, str]]


def new_event_id() -> str:
    """The idempotency key of one event: 32 hex characters."""
    return secrets.token_hex(16)


def encode(fields: Fields) -> str:
    """The exact ``application/x-www-form-urlencoded`` body of ``fields``."""
    return urlencode(fields)


def standard_fields(
    name: str,
    event: Event,
    event_id: str,
    appliance_id: str,
    lsid: str,
    external_key: str,
) -> Fields:
    return [
        ("event", name),
        ("version", VERSION),
        ("timestamp", str(int(event.timestamp))),
        ("event_id", event_id),
        ("appliance_id", appliance_id),
        ("lsid", lsid),
        ("external_key", external_key),
    ]


def _member_actor(event: Event) -> Actor | None:
    # The hub names the member as the event's destination; an owner that
    # is a queue or the pre-start conference is a system actor.
    return event.destination or event.performed_by


def _conference_name(db: Session, session: SupportSession) -> str:
    customers = db.scalars(
        select(Participant.name)
        .where(
            Participant.session_id == session.id,
            Participant.kind == events.CUSTOMER,
        )
        .order_by(Participant.is_primary.desc(), Participant.gsnumber)
    )
    return next(iter(customers), "")


def member_fields(db: Session, session: SupportSession | None, event: Event) -> Fields:
    """``username`` ... ``conference_id`` of a member event.

    The conference is the session: its name is the primary customer's
    name (the title of the session in the console), its id the LSEQ.
    Customers have no account, so their ``username`` and ``user_id`` are
    empty; a queue taking a session back is an owner of type ``system``.
    """
    actor = _member_actor(event)
    data = dict(event.data)
    participant = None
    if actor is not None and actor.type != events.SYSTEM and session is not None:
        participant = db.scalar(
            select(Participant).where(
                Participant.session_id == session.id,
                Participant.gsnumber == actor.gsnumber,
            )
        )
    kind = actor.type if actor is not None else ""
    name = actor.name if actor is not None else ""
    username = data.get("username", "")
    user_id = data.get("user_id", "")
    display_name = data.get("public_name", name)
    if participant is not None:
        kind = participant.kind
        display_name = participant.name or display_name
        if participant.kind == events.REPRESENTATIVE:
            username = participant.username or username
            if participant.user_id is not None:
                user_id = str(participant.user_id)
    if kind != events.REPRESENTATIVE:
        username = user_id = ""
    return [
        ("username", username),
        ("user_id", user_id),
        ("display_name", display_name),
        ("type", kind),
        ("name", name or display_name),
        ("conference_name", _conference_name(db, session) if session else ""),
        ("conference_id", str(session.id) if session else ""),
    ]


def custom_fields(db: Session, session: SupportSession | None) -> Fields:
    """Every configured custom field, empty when the session has no value."""
    values = session.custom if session is not None else {}
    codes = db.scalars(select(CustomField.code_name).order_by(CustomField.id))
    return [(f"session.custom.{code}", str(values.get(code, ""))) for code in codes]
