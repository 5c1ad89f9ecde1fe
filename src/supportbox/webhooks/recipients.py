"""The receivers of outbound events, as an administrator configures them.

The command line and the admin pages call these functions; they flush
but never commit. The shared secret is stored as given because the
server must sign every post with it (see docs/webhooks.md).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from supportbox.directory import validate
from supportbox.errors import Conflict, InvalidInput, NotFound
from supportbox.storage.models import WebhookDelivery, WebhookRecipient
from supportbox.webhooks import payload

DEFAULT_RETRY_INTERVAL = 60.0
DEFAULT_RETRY_DURATION = 24 * 3600.0
MIN_SECRET = 16


def get(db: Session, ref: str | int) -> WebhookRecipient:
    """A recipient by id or name."""
    recipient = None
    if isinstance(ref, int) or validate.is_id(ref):
        recipient = db.get(WebhookRecipient, int(ref))
    if recipient is None:
        recipient = db.scalar(
            select(WebhookRecipient).where(WebhookRecipient.name == str(ref))
        )
    if recipient is None:
        raise NotFound(f"no webhook {ref!r}")
    return recipient


def list_all(db: Session) -> list[WebhookRecipient]:
    return list(db.scalars(select(WebhookRecipient).order_by(WebhookRecipient.id)))


def check_url(url: str) -> str:
    url = url.strip()
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise InvalidInput(f"url {url!r} is not a valid URL") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise InvalidInput(f"url {url!r} must be an http:// or https:// URL")
    return url


def check_events(names: Iterable[str]) -> list[str]:
    """Known outbound event names, in the docs' order; empty means all."""
    chosen = {n.strip() for n in names if n.strip()}
    if chosen & {"all", "*"}:
        return []
    unknown = sorted(chosen - set(payload.NAMES))
    if unknown:
        raise InvalidInput(
            f"unknown event {unknown[0]!r}; known: {', '.join(payload.NAMES)}"
        )
    return [n for n in payload.NAMES if n in chosen]


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET:
        raise InvalidInput(f"secret is shorter than {MIN_SECRET} characters")
    return secret


def check_seconds(value: float, what: str) -> float:
    if not value > 0 or value != value or value == float("inf"):
        raise InvalidInput(f"{what} must be a positive number of seconds")
    return float(value)


def _check_retry(interval: float, duration: float) -> None:
    check_seconds(interval, "retry interval")
    check_seconds(duration, "retry duration")


def _check_name_free(db: Session, name: str, own_id: int | None = None) -> str:
    name = validate.name(name, "webhook name")
    clash = db.scalar(select(WebhookRecipient.id).where(WebhookRecipient.name == name))
    if clash is not None and clash != own_id:
        raise Conflict(f"a webhook named {name!r} exists")
    return name


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def add(
    db: Session,
    name: str,
    url: str,
    *,
    events: Iterable[str] = (),
    enabled: bool = True,
    secret: str | None = None,
    send_custom_fields: bool = False,
    retry_interval: float = DEFAULT_RETRY_INTERVAL,
    retry_duration: float = DEFAULT_RETRY_DURATION,
) -> tuple[WebhookRecipient, str]:
    """Create a recipient; returns it and its secret (generated if not given)."""
    _check_retry(retry_interval, retry_duration)
    recipient = WebhookRecipient(
        name=_check_name_free(db, name),
        url=check_url(url),
        events=check_events(events),
        enabled=enabled,
        secret=new_secret() if secret is None else check_secret(secret),
        send_custom_fields=send_custom_fields,
        retry_interval=float(retry_interval),
        retry_duration=float(retry_duration),
        created_at=time.time(),
    )
    db.add(recipient)
    db.flush()
    return recipient, recipient.secret


def update(
    db: Session,
    ref: str | int,
    *,
    name: str | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
    secret: str | None = None,
    send_custom_fields: bool | None = None,
    retry_interval: float | None = None,
    retry_duration: float | None = None,
) -> WebhookRecipient:
    """Change what is given; events already queued keep their body."""
    recipient = get(db, ref)
    _check_retry(
        recipient.retry_interval if retry_interval is None else retry_interval,
        recipient.retry_duration if retry_duration is None else retry_duration,
    )
    if name is not None:
        recipient.name = _check_name_free(db, name, recipient.id)
    if url is not None:
        recipient.url = check_url(url)
    if events is not None:
        recipient.events = check_events(events)
    if enabled is not None:
        recipient.enabled = enabled
    if secret is not None:
        recipient.secret = check_secret(secret)
    if send_custom_fields is not None:
        recipient.send_custom_fields = send_custom_fields
    if retry_interval is not None:
        recipient.retry_interval = float(retry_interval)
    if retry_duration is not None:
        recipient.retry_duration = float(retry_duration)
    db.flush()
    return recipient


def regenerate_secret(db: Session, ref: str | int) -> tuple[WebhookRecipient, str]:
    recipient = update(db, ref, secret=new_secret())
    return recipient, recipient.secret


def remove(db: Session, ref: str | int) -> tuple[str, int]:
    """Delete a recipient and its queue; returns its name and the events dropped."""
    recipient = get(db, ref)
    dropped = db.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(
            WebhookDelivery.recipient_id == recipient.id,
            WebhookDelivery.status != "delivered",
        )
    )
    name = recipient.name
    db.execute(
        delete(WebhookDelivery).where(WebhookDelivery.recipient_id == recipient.id)
    )
    db.delete(recipient)
    db.flush()
    return name, int(dropped or 0)


def wants(recipient: WebhookRecipient, event: str) -> bool:
    return recipient.enabled and (not recipient.events or event in recipient.events)
