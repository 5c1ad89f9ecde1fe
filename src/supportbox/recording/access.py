"""The audit trail of who viewed or downloaded a recording, and when."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.logs import audit_log
from supportbox.storage.models import RecordingAccess

VIEW = "view"
PLAY = "play"
DOWNLOAD = "download"


def note(
    db: Session,
    recording_id: int,
    action: str,
    actor: str,
    *,
    client_ip: str = "",
    user_agent: str = "",
) -> None:
    """Store one access; the caller commits with the response it serves."""
    db.add(
        RecordingAccess(
            recording_id=recording_id,
            at=time.time(),
            action=action,
            actor=actor[:200],
            client_ip=client_ip[:64],
            user_agent=user_agent[:500],
        )
    )
    audit_log.info(
        "recording %s %s by %s from %s", recording_id, action, actor, client_ip
    )


def history(db: Session, recording_id: int) -> list[RecordingAccess]:
    query = (
        select(RecordingAccess)
        .where(RecordingAccess.recording_id == recording_id)
        .order_by(RecordingAccess.id)
    )
    return list(db.scalars(query))
