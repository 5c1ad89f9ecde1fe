"""The durable queue of outbound events, one per recipient.

Rows leave in ``id`` order. Only the oldest pending row of a recipient
(its head) is ever sent: a later event waits until the head is delivered
or, its retry duration spent, becomes a dead letter. A worker claims the
head by writing a lease; a second worker, on this node or another one,
leaves a leased head alone until the lease runs out.

These functions flush but never commit; the worker gives each its own
short transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from supportbox.errors import InvalidInput, NotFound
from supportbox.storage.models import WebhookDelivery, WebhookRecipient

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"

#: Seconds before the first retry; each later wait doubles, up to the
#: recipient's retry interval.
FIRST_DELAY = 1.0

#: Delivered rows are kept this long for inspection, then deleted.
KEEP_DELIVERED = 7 * 24 * 3600.0


def retry_delay(attempts: int, interval: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts: 1, 2, 4 ... interval."""
    return min(interval, FIRST_DELAY * 2.0 ** min(max(attempts - 1, 0), 30))


def enqueue(
    db: Session,
    recipient_id: int,
    event_id: str,
    event: str,
    lsid: str,
    body: str,
    now: float,
) -> None:
    db.add(
        WebhookDelivery(
            recipient_id=recipient_id,
            event_id=event_id,
            event=event,
            lsid=lsid,
            body=body,
            status=PENDING,
            created_at=now,
            next_attempt_at=now,
        )
    )


@dataclass(frozen=True)
class Claim:
    """A head this worker holds the lease of, with what it needs to post it."""

    delivery_id: int
    recipient_id: int
    recipient: str
    url: str
    secret: str
    event_id: str
    event: str
    body: str
    attempt: int


def busy_recipients(db: Session) -> list[int]:
    """Enabled recipients with pending events."""
    query = (
        select(WebhookRecipient.id)
        .where(
            WebhookRecipient.enabled.is_(True),
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.recipient_id == WebhookRecipient.id,
                WebhookDelivery.status == PENDING,
            )
            .exists(),
        )
        .order_by(WebhookRecipient.id)
    )
    return list(db.scalars(query))


def claim_head(
    db: Session, recipient_id: int, owner: str, now: float, lease: float
) -> Claim | float | None:
    """Lease the head of a recipient's queue.

    Returns the claim, or the seconds to wait before the head may be
    tried (not due yet, or leased by another worker), or ``None`` when
    the queue is empty or the recipient disabled or gone.
    """
    recipient = db.get(WebhookRecipient, recipient_id)
    if recipient is None or not recipient.enabled:
        return None
    head = db.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.lease_owner,
            WebhookDelivery.lease_until,
        )
        .where(
            WebhookDelivery.recipient_id == recipient_id,
            WebhookDelivery.status == PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    ).first()
    if head is None:
        return None
    if head.next_attempt_at > now:
        return float(head.next_attempt_at - now)
    if head.lease_owner not in (None, owner) and (head.lease_until or 0) > now:
        return float(head.lease_until - now)

    # The lease is taken by whoever updates the row first; on PostgreSQL
    # the second updater re-checks the condition and matches nothing.
    taken = (
        db.connection()
        .execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == head.id,
                WebhookDelivery.status == PENDING,
                or_(
                    WebhookDelivery.lease_owner.is_(None),
                    WebhookDelivery.lease_owner == owner,
                    WebhookDelivery.lease_until <= now,
                ),
            )
            .values(
                lease_owner=owner,
                lease_until=now + lease,
                first_attempt_at=func.coalesce(WebhookDelivery.first_attempt_at, now),
            )
        )
        .rowcount
    )
    if taken != 1:
        return min(lease, 1.0)
    row = db.execute(
        select(
            WebhookDelivery.event_id,
            WebhookDelivery.event,
            WebhookDelivery.body,
            WebhookDelivery.attempts,
        ).where(WebhookDelivery.id == head.id)
    ).one()
    return Claim(
        delivery_id=head.id,
        recipient_id=recipient.id,
        recipient=recipient.name,
        url=recipient.url,
        secret=recipient.secret,
        event_id=row.event_id,
        event=row.event,
        body=row.body,
        attempt=row.attempts + 1,
    )


def record_delivered(db: Session, claim: Claim, now: float) -> None:
    db.connection().execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == claim.delivery_id,
            WebhookDelivery.status == PENDING,
        )
        .values(
            status=DELIVERED,
            attempts=WebhookDelivery.attempts + 1,
            finished_at=now,
            lease_owner=None,
            lease_until=None,
            last_error="",
        )
    )


@dataclass(frozen=True)
class Failure:
    """What became of a failed attempt: a retry at ``retry_at``, or dead."""

    dead: bool
    retry_at: float


def record_failed(
    db: Session, claim: Claim, owner: str, now: float, error: str
) -> Failure | None:
    """Count a failed attempt; schedule a retry or turn the row into a dead letter.

    Returns ``None`` when the row is no longer this worker's (deleted,
    replayed, or its lease taken over after running out).
    """
    row = db.get(WebhookDelivery, claim.delivery_id, populate_existing=True)
    recipient = db.get(WebhookRecipient, claim.recipient_id)
    if row is None or recipient is None or row.status != PENDING:
        return None
    if row.lease_owner != owner:
        return None
    row.attempts += 1
    row.last_error = error[:500]
    row.lease_owner = None
    row.lease_until = None
    deadline = (row.first_attempt_at or now) + recipient.retry_duration
    if now >= deadline:
        row.status = DEAD
        row.finished_at = now
        db.flush()
        return Failure(dead=True, retry_at=now)
    row.next_attempt_at = min(
        now + retry_delay(row.attempts, recipient.retry_interval), deadline
    )
    db.flush()
    return Failure(dead=False, retry_at=row.next_attempt_at)


def release(db: Session, owner: str) -> None:
    """Give up every lease ``owner`` holds, so another worker need not wait."""
    db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


def prune(db: Session, now: float) -> None:
    db.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status == DELIVERED,
            WebhookDelivery.finished_at < now - KEEP_DELIVERED,
        )
    )


def counts(db: Session) -> dict[int, dict[str, int]]:
    """Per recipient id, how many rows are pending and dead."""
    rows = db.execute(
        select(WebhookDelivery.recipient_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status != DELIVERED)
        .group_by(WebhookDelivery.recipient_id, WebhookDelivery.status)
    )
    result: dict[int, dict[str, int]] = {}
    for recipient_id, status, count in rows:
        result.setdefault(recipient_id, {PENDING: 0, DEAD: 0})[status] = count
    return result


def dead_letters(
    db: Session, recipient_id: int | None = None
) -> list[tuple[WebhookDelivery, str]]:
    """Dead letters, oldest first, each with its recipient's name."""
    query = (
        select(WebhookDelivery, WebhookRecipient.name)
        .join(WebhookRecipient, WebhookRecipient.id == WebhookDelivery.recipient_id)
        .where(WebhookDelivery.status == DEAD)
        .order_by(WebhookDelivery.id)
    )
    if recipient_id is not None:
        query = query.where(WebhookDelivery.recipient_id == recipient_id)
    return [(row, name) for row, name in db.execute(query)]


def _dead(
    db: Session, recipient_id: int | None, delivery_ids: Sequence[int], verb: str
) -> list[WebhookDelivery]:
    """The dead letters named, all of them there or NotFound."""
    if recipient_id is None and not delivery_ids:
        raise InvalidInput(f"name the dead letters to {verb} or a webhook")
    query = select(WebhookDelivery).where(WebhookDelivery.status == DEAD)
    if recipient_id is not None:
        query = query.where(WebhookDelivery.recipient_id == recipient_id)
    if delivery_ids:
        query = query.where(WebhookDelivery.id.in_(list(delivery_ids)))
    rows = list(db.scalars(query))
    missing = set(delivery_ids) - {row.id for row in rows}
    if missing:
        raise NotFound(f"no dead letter {min(missing)}")
    return rows


def replay(
    db: Session,
    *,
    recipient_id: int | None = None,
    delivery_ids: Sequence[int] = (),
    now: float | None = None,
) -> int:
    """Queue dead letters again, with a fresh retry duration.

    A replayed row keeps its place by id, so it goes out before any
    newer pending event of its recipient.
    """
    now = time.time() if now is None else now
    rows = _dead(db, recipient_id, delivery_ids, "replay")
    for row in rows:
        row.status = PENDING
        row.attempts = 0
        row.first_attempt_at = None
        row.next_attempt_at = now
        row.finished_at = None
        row.lease_owner = None
        row.lease_until = None
    db.flush()
    return len(rows)


def discard(
    db: Session, *, recipient_id: int | None = None, delivery_ids: Sequence[int] = ()
) -> int:
    """Delete dead letters for good; returns how many."""
    rows = _dead(db, recipient_id, delivery_ids, "discard")
    for row in rows:
        db.delete(row)
    db.flush()
    return len(rows)
