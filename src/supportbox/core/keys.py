"""Redeeming session keys (spec 4.3): each key starts one session, once."""

from __future__ import annotations

import time

from sqlalchemy import update
from sqlalchemy.orm import Session

from supportbox.storage.models import SessionKey


def redeem(db: Session, key_id: int, lsid: str) -> bool:
    """Mark the key used by ``lsid``; ``False`` if it was used or expired.

    One UPDATE with the conditions in its WHERE clause, so two requests
    racing for the same key cannot both win.
    """
    result = db.execute(
        update(SessionKey)
        .where(
            SessionKey.id == key_id,
            SessionKey.used_by_lsid.is_(None),
            SessionKey.expires_at > time.time(),
        )
        .values(used_by_lsid=lsid)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
