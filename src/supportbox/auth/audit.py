"""Security-relevant actions, stored as audit events and logged.

Every call adds an :class:`AuditEvent` row (the caller commits) and one
line on the ``supportbox.audit`` logger. ``detail`` must never carry a
password, secret, token or session key.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from supportbox.logs import audit_log
from supportbox.storage.models import AuditEvent

OK = "ok"
FAILED = "failed"
DENIED = "denied"


def record(
    db: Session,
    action: str,
    actor: str,
    outcome: str = OK,
    client_ip: str = "",
    **detail: Any,
) -> AuditEvent:
    """Note that ``actor`` did ``action`` from ``client_ip`` with ``outcome``."""
    # Names typed by a stranger reach the log: keep them on one line.
    actor = "".join(c if c.isprintable() else "?" for c in actor)[:200]
    event = AuditEvent(
        at=time.time(),
        actor=actor,
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
        actor,
        client_ip or "-",
        detail or "",
    )
    return event
