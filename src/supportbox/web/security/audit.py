"""Audit rows for logins and administrative actions.

``detail`` never carries a password, secret, token or session id.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session

from supportbox.logs import audit_log
from supportbox.storage.models import AuditEvent


def record(
    db: Session,
    action: str,
    actor: str,
    *,
    client_ip: str = "",
    outcome: str = "ok",
    **detail: Any,
) -> None:
    """Add one audit row (the caller commits) and one audit log line."""
    actor = "".join(c if c.isprintable() else "?" for c in actor)[:200]
    db.add(
        AuditEvent(
            at=time.time(),
            actor=actor,
            action=action,
            outcome=outcome,
            client_ip=client_ip,
            detail=detail,
        )
    )
    audit_log.info("%s %s by %s from %s", action, outcome, actor, client_ip or "-")
