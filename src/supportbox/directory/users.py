"""Representatives and administrators."""

from __future__ import annotations

import time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from supportbox.auth import passwords
from supportbox.directory import validate
from supportbox.errors import Conflict, NotFound
from supportbox.storage.models import User, WebSession

PERMISSIONS = ("perm_support", "perm_admin", "perm_reports", "perm_api")


def get(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def get_by_id(db: Session, user_id: int) -> User:
    in_range = 0 <= user_id <= validate.MAX_ID
    user = db.get(User, user_id) if in_range else None
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def create(
    db: Session,
    username: str,
    password: str,
    *,
    display_name: str = "",
    private_display_name: str = "",
    admin: bool = False,
    support: bool = True,
    reports: bool | None = None,
    api: bool | None = None,
) -> User:
    """Create a user; administrators may also view reports and use the APIs."""
    username = validate.name(username, "username")
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username {username!r} is taken")
    passwords.check_strength(password, username)
    public = validate.name(display_name or username, "display name")
    user = User(
        username=username,
        password_hash=passwords.hash_secret(password),
        public_display_name=public,
        private_display_name=validate.name(
            private_display_name or public, "private display name"
        ),
        perm_support=support,
        perm_admin=admin,
        perm_reports=admin if reports is None else reports,
        perm_api=admin if api is None else api,
        show_on_rep_list=True,
        enabled=True,
        created_at=time.time(),
    )
    db.add(user)
    db.flush()
    return user


def update(
    db: Session,
    username: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    private_display_name: str | None = None,
    enabled: bool | None = None,
    permissions: dict[str, bool] | None = None,
    keep_session: str = "",
) -> User:
    """Change a user; a new password or disabling ends their web logins.

    ``keep_session`` (a web session's hash) survives a password change:
    the administrator who changes their own password stays logged in.
    """
    user = get(db, username)
    if password is not None:
        passwords.check_strength(password, username)
        user.password_hash = passwords.hash_secret(password)
        _end_web_logins(db, user.id, keep_session)
    if display_name is not None:
        user.public_display_name = validate.name(display_name, "display name")
    if private_display_name is not None:
        user.private_display_name = validate.name(
            private_display_name, "private display name"
        )
    if enabled is not None:
        user.enabled = enabled
        if not enabled:
            _end_web_logins(db, user.id)
    for perm, value in (permissions or {}).items():
        if perm not in PERMISSIONS:
            raise NotFound(f"no permission named {perm!r}")
        setattr(user, perm, value)
    db.flush()
    return user


def _end_web_logins(db: Session, user_id: int, keep: str = "") -> None:
    db.execute(
        delete(WebSession).where(
            WebSession.user_id == user_id, WebSession.id_hash != keep
        )
    )


def list_all(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.id)))


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The enabled user with these credentials, or ``None``."""
    user = db.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user is not None else None
    if not passwords.verify_secret(stored, password):
        return None
    if user is None or not user.enabled:
        return None
    return user
