"""OAuth2 bearer tokens of API accounts (spec 2.2).

A token is 40 random alphanumerics, handed out once; only its SHA-256 is
stored. It lives :data:`LIFETIME` seconds. An account holds at most
:data:`MAX_VALID` valid tokens: minting one more retires the oldest.
Regenerating the client secret or disabling the account revokes them all
(:mod:`supportbox.directory.api_accounts`).
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.auth import passwords
from supportbox.storage.models import ApiAccount, ApiToken

LIFETIME = 3600
MAX_VALID = 30
#: Expired or revoked tokens are deleted this long after they stop working.
KEEP_DEAD = 86400.0


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_client(db: Session, client_id: str, secret: str) -> ApiAccount | None:
    """The enabled account with these client credentials, or ``None``.

    A wrong client id costs as long as a wrong secret.
    """
    account = db.scalar(select(ApiAccount).where(ApiAccount.client_id == client_id))
    stored = account.secret_hash if account is not None else None
    if not passwords.verify_secret(stored, secret):
        return None
    if account is None or not account.enabled:
        return None
    return account


def issue(db: Session, account: ApiAccount, now: float | None = None) -> str:
    """Mint a token for ``account``; the caller commits."""
    now = time.time() if now is None else now

    # Lock the account row (PostgreSQL) so two requests cannot both
    # decide there is room for one more token.
    db.execute(
        select(ApiAccount.id).where(ApiAccount.id == account.id).with_for_update()
    )
    db.execute(
        delete(ApiToken).where(
            ApiToken.account_id == account.id, ApiToken.expires_at < now - KEEP_DEAD
        )
    )

    valid = list(
        db.scalars(
            select(ApiToken.id)
            .where(
                ApiToken.account_id == account.id,
                ApiToken.revoked.is_(False),
                ApiToken.expires_at > now,
            )
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )
    surplus = valid[: max(0, len(valid) - MAX_VALID + 1)]
    if surplus:
        db.execute(
            update(ApiToken).where(ApiToken.id.in_(surplus)).values(revoked=True)
        )

    token = ids.new_token()
    db.add(
        ApiToken(
            account_id=account.id,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + LIFETIME,
            revoked=False,
        )
    )
    db.flush()
    return token


def resolve(db: Session, token: str, now: float | None = None) -> ApiAccount | None:
    """The enabled account a valid ``token`` belongs to, or ``None``."""
    now = time.time() if now is None else now
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked or row.expires_at <= now:
        return None
    account = db.get(ApiAccount, row.account_id)
    if account is None or not account.enabled:
        return None
    return account
