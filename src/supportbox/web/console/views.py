"""What the console shows, read from storage as JSON-ready dictionaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core import events as ev
from supportbox.directory import sites, teams
from supportbox.storage import sessions as store
from supportbox.storage.models import (
    Participant,
    RepPresence,
    SessionEvent,
    SupportSession,
    User,
)


def my_sessions(db: Session, user_id: int) -> list[dict[str, Any]]:
    """The open sessions a representative is in now, oldest first."""
    rows = db.scalars(
        select(SupportSession)
        .join(Participant, Participant.session_id == SupportSession.id)
        .where(
            Participant.user_id == user_id,
            Participant.kind == ev.REPRESENTATIVE,
            Participant.present.is_(True),
            SupportSession.status != "ended",
        )
        .order_by(SupportSession.start_time)
    )
    result = []
    for row in rows:
        customer = _customer(db, row.id)
        result.append(
            {
                "lsid": row.lsid,
                "customer": customer.name if customer else "",
                "company": customer.info.get("company", "") if customer else "",
                "queue_name": row.queue_name,
                "external_key": row.external_key,
                "since": row.start_time,
            }
        )
    return result


def _customer(db: Session, session_id: int) -> Participant | None:
    return db.scalar(
        select(Participant).where(
            Participant.session_id == session_id,
            Participant.kind == ev.CUSTOMER,
            Participant.is_primary.is_(True),
        )
    )


def _system_information(db: Session, session_id: int) -> list[Any]:
    latest = db.scalar(
        select(SessionEvent.system_information)
        .where(
            SessionEvent.session_id == session_id,
            SessionEvent.event_type == ev.SYSTEM_INFORMATION,
        )
        .order_by(SessionEvent.seq.desc())
        .limit(1)
    )
    return list(latest or [])


def targets(db: Session, user_id: int) -> dict[str, Any]:
    """Where a session can be transferred and whom a rep can invite."""
    online = {p.user_id for p in db.scalars(select(RepPresence))}
    reps = [
        {
            "id": u.id,
            "username": u.username,
            "name": u.private_display_name,
            "online": u.id in online,
        }
        for u in db.scalars(
            select(User).where(User.enabled.is_(True), User.perm_support.is_(True))
        )
        if u.id != user_id
    ]
    return {
        "teams": [
            {"queue": f"team:{t.id}", "name": t.name} for t in teams.list_all(db)
        ],
        "colleagues": sorted(reps, key=lambda r: (not r["online"], r["name"])),
    }


def session_detail(db: Session, lsid: str, user_id: int) -> dict[str, Any]:
    """A session as the console's side panel shows it."""
    row = store.get(db, lsid)
    state = store.load_state(db, row)
    customer = state.primary_customer()
    fields = [
        {"code": f.code_name, "name": f.display_name}
        for f in sites.custom_fields(db)
        if f.show_in_console
    ]
    return {
        "lsid": row.lsid,
        "status": state.status,
        "queue_name": state.queue_name,
        "external_key": state.external_key,
        "custom": dict(state.custom),
        "fields": fields,
        "my_gs": state.rep_gs(user_id),
        "customer": None
        if customer is None
        else {
            "gsnumber": customer.gsnumber,
            "name": customer.name,
            "info": customer.info,
            "hostname": customer.hostname,
            "os": customer.os,
            "public_ip": customer.public_ip,
            "private_ip": customer.private_ip,
            "connected": customer.connected,
        },
        "members": [
            {"gsnumber": m.gsnumber, "name": m.private_name or m.name}
            for m in state.present_reps()
        ],
        "system_information": _system_information(db, row.id),
        "survey": [
            {
                "name": q.name,
                "type": q.type,
                "label": q.label,
                "options": list(q.options),
            }
            for q in sites.questions(db, "rep")
        ],
        **targets(db, user_id),
    }
