"""API accounts: OAuth2 clients with the permission set of spec 2.3."""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.auth import passwords
from supportbox.directory import validate
from supportbox.errors import Conflict, InvalidInput, NotFound
from supportbox.storage.models import ApiAccount, ApiToken

COMMAND_LEVELS = ("full_access", "read_only", "deny")
#: Short forms the command line accepts for ``--command``.
COMMAND_ALIASES = {"full": "full_access", "read_only": "read_only", "deny": "deny"}

#: Every permission ``get_api_info`` lists, in its order (spec 4.18).
PERMISSIONS = (
    "perm_command",
    "perm_reporting_support",
    "perm_reporting_presentation",
    "perm_reporting_license",
    "perm_reporting_archive",
    "perm_real_time_state",
    "perm_ecm",
    "perm_backup",
    "perm_scim",
)
REPORTING = (
    "perm_reporting_support",
    "perm_reporting_presentation",
    "perm_reporting_license",
    "perm_reporting_archive",
)


def get(db: Session, ref: str) -> ApiAccount:
    """An account by name, client id or numeric id."""
    query = select(ApiAccount).where(
        (ApiAccount.name == ref) | (ApiAccount.client_id == ref)
    )
    account = db.scalar(query)
    if account is None and validate.is_id(ref):
        account = db.get(ApiAccount, int(ref))
    if account is None:
        raise NotFound(f"no API account {ref!r}")
    return account


def create(
    db: Session,
    name: str,
    *,
    command: str = "deny",
    reporting: bool = False,
    backup: bool = False,
) -> tuple[ApiAccount, str]:
    """Create an account; returns it with its secret, which is never stored."""
    name = validate.name(name, "API account name")
    level = COMMAND_ALIASES.get(command, command)
    if level not in COMMAND_LEVELS:
        raise InvalidInput(f"command access {command!r} is not full, read_only or deny")
    if db.scalar(select(ApiAccount.id).where(ApiAccount.name == name)) is not None:
        raise Conflict(f"an API account named {name!r} exists")
    secret = ids.new_client_secret()
    account = ApiAccount(
        name=name,
        client_id=ids.new_client_id(),
        secret_hash=passwords.hash_secret(secret),
        enabled=True,
        perm_command=level,
        perm_backup=backup,
        created_at=time.time(),
    )
    for perm in REPORTING:
        setattr(account, perm, reporting)
    db.add(account)
    db.flush()
    return account, secret


def revoke_tokens(db: Session, account: ApiAccount) -> None:
    db.execute(
        update(ApiToken).where(ApiToken.account_id == account.id).values(revoked=True)
    )


def regenerate_secret(db: Session, ref: str) -> tuple[ApiAccount, str]:
    """Give the account a new secret and revoke every token it holds."""
    account = get(db, ref)
    secret = ids.new_client_secret()
    account.secret_hash = passwords.hash_secret(secret)
    revoke_tokens(db, account)
    db.flush()
    return account, secret


def set_enabled(db: Session, ref: str, enabled: bool) -> ApiAccount:
    account = get(db, ref)
    account.enabled = enabled
    if not enabled:
        revoke_tokens(db, account)
    db.flush()
    return account


def list_all(db: Session) -> list[ApiAccount]:
    return list(db.scalars(select(ApiAccount).order_by(ApiAccount.id)))


def permission_value(account: ApiAccount, perm: str) -> str:
    """The text ``get_api_info`` shows for one permission."""
    value = getattr(account, perm)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def set_permissions(
    db: Session, ref: str, command: str, granted: set[str]
) -> ApiAccount:
    """Set the command level and grant exactly the boolean permissions named."""
    account = get(db, ref)
    level = COMMAND_ALIASES.get(command, command)
    if level not in COMMAND_LEVELS:
        raise InvalidInput(f"command access {command!r} is not full, read_only or deny")
    unknown = granted - set(PERMISSIONS[1:])
    if unknown:
        raise InvalidInput(f"no permission named {sorted(unknown)[0]!r}")
    account.perm_command = level
    for perm in PERMISSIONS[1:]:
        setattr(account, perm, perm in granted)
    db.flush()
    return account
