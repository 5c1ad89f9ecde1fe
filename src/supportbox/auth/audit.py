"""Security-relevant actions, stored as audit events and logged.

Every call adds an :class:`AuditEvent` row (the caller commits) and one
line on the ``supportbox.audit`` logger. ``detail`` must never carry a
password, secret, token or session key.

The actor of a failed login is whatever the caller typed, and people
often type their password into the username field. So for a failed
outcome the log line never shows the actor: it names the user or API
account by id when one has that name, and only the name's length when
none has. The table keeps the actor when it names an existing user or
client id, and otherwise only its length (a hash of it, unkeyed, would
let anyone holding the table try a dictionary of passwords against it).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.logs import audit_log
from supportbox.storage.models import ApiAccount, AuditEvent, User

OK = "ok"
FAILED = "failed"
DENIED = "denied"


def record(
    db: Session,
    action: str,
    actor: str,
    outcome: str = OK,
    client_ip: str = "",
    *,
    typed: bool = True,
    **detail: Any,
) -> AuditEvent:
    """Note that ``actor`` did ``action`` from ``client_ip`` with ``outcome``.

    ``typed=False`` says the actor of a failure is not what a stranger
    typed (a fixed label such as ``"unknown token"``): it is kept as is.
    """
    # Names typed by a stranger reach the table: keep them on one line.
    actor = "".join(c if c.isprintable() else "?" for c in actor)[:200]
    stored, shown = actor, actor
    if outcome == FAILED and typed:
        stored, shown = _masked(db, actor)
    event = AuditEvent(
        at=time.time(),
        actor=stored,
        action=action,
        outcome=outcome,
        client_ip=client_ip,
        detail=detail,
    )
    db.add(event)
    audit_log.info(
        "%s %s by %s from %s %s",
        action,
        outcome,
        shown,
        client_ip or "-",
        detail or "",
    )
    return event


def _masked(db: Session, name: str) -> tuple[str, str]:
    """What to store and what to log for a name typed at a failed login."""
    user_id = db.scalar(select(User.id).where(User.username == name))
    if user_id is not None:
        return name, f"user #{user_id}"
    account_id = db.scalar(select(ApiAccount.id).where(ApiAccount.client_id == name))
    if account_id is not None:
        return name, f"API account #{account_id}"
    unknown = f"an unknown name of {len(name)} characters"
    return f"unknown name ({len(name)} characters)", unknown
