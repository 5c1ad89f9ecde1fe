"""Server-side web sessions: the cookie holds a random id, the table its hash.

Deleting a row logs the browser out at once; disabling a user deletes
all of their rows, and a lookup also refuses a disabled user.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from supportbox.storage.models import User, WebSession


@dataclass(frozen=True)
class Login:
    """The user behind a request's web session."""

    session_hash: str
    user_id: int
    username: str
    name: str
    csrf_token: str
    perm_admin: bool
    perm_support: bool
    perm_reports: bool
    has_totp: bool
    second_factor_due: bool

    @property
    def may_report(self) -> bool:
        return self.perm_admin or self.perm_reports


def hash_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create(
    db: Session,
    user: User,
    *,
    hours: int,
    client_ip: str,
    second_factor_due: bool,
) -> str:
    """Start a web session for ``user``; returns the cookie value."""
    raw = secrets.token_urlsafe(32)
    now = time.time()
    db.add(
        WebSession(
            id_hash=hash_id(raw),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + hours * 3600,
            second_factor_due=second_factor_due,
            client_ip=client_ip,
        )
    )
    db.flush()
    return raw


def lookup(db: Session, raw: str) -> Login | None:
    """The login for a cookie value, or ``None`` if expired, revoked or disabled."""
    if not raw or len(raw) > 200:
        return None
    row = db.get(WebSession, hash_id(raw))
    if row is None or row.expires_at < time.time():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.enabled:
        return None
    return Login(
        session_hash=row.id_hash,
        user_id=user.id,
        username=user.username,
        name=user.public_display_name,
        csrf_token=row.csrf_token,
        perm_admin=user.perm_admin,
        perm_support=user.perm_support,
        perm_reports=user.perm_reports,
        has_totp=bool(user.totp_secret),
        second_factor_due=row.second_factor_due,
    )


def second_factor_done(db: Session, session_hash: str) -> None:
    row = db.get(WebSession, session_hash)
    if row is not None:
        row.second_factor_due = False
        db.flush()


def revoke(db: Session, session_hash: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id_hash == session_hash))


def purge_expired(db: Session) -> None:
    db.execute(delete(WebSession).where(WebSession.expires_at < time.time()))
