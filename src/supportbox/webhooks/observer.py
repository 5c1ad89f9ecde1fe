"""Queues outbound events inside the transaction that stores session events."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core.events import Event
from supportbox.storage.models import SupportSession, WebhookRecipient
from supportbox.webhooks import payload, queue, recipients


class WebhookObserver:
    """A :class:`~supportbox.core.events.SessionObserver` that fills the queues.

    For every session event that has an outbound name it writes one
    delivery row per enabled recipient that wants it, with the exact
    body that will be posted. The rows commit or roll back with the
    events. ``notify`` is called, from whichever thread commits, once
    the transaction has committed, so the worker need not wait for its
    next poll.
    """

    def __init__(
        self, appliance_id: str, notify: Callable[[], None] | None = None
    ) -> None:
        self.appliance_id = appliance_id
        self.notify = notify

    def on_events(
        self, db: Session, lsid: str, external_key: str, events: list[Event]
    ) -> None:
        outbound = [
            (payload.OUTBOUND[e.event_type], e)
            for e in events
            if e.event_type in payload.OUTBOUND
        ]
        if not outbound:
            return
        listeners = [
            r
            for r in db.scalars(
                select(WebhookRecipient)
                .where(WebhookRecipient.enabled.is_(True))
                .order_by(WebhookRecipient.id)
            )
            if any(recipients.wants(r, name) for name, _ in outbound)
        ]
        if not listeners:
            return

        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        custom: payload.Fields = []
        if any(r.send_custom_fields for r in listeners):
            custom = payload.custom_fields(db, session)

        now = time.time()
        for name, event in outbound:
            event_id = payload.new_event_id()
            fields = payload.standard_fields(
                name, event, event_id, self.appliance_id, lsid, external_key
            )
            if name in payload.MEMBER_EVENTS:
                fields += payload.member_fields(db, session, event)
            for recipient in listeners:
                if not recipients.wants(recipient, name):
                    continue
                extra = custom if recipient.send_custom_fields else []
                body = payload.encode(fields + extra)
                queue.enqueue(db, recipient.id, event_id, name, lsid, body, now)
        db.flush()

        if self.notify is not None:
            notify = self.notify
            sa_event.listen(db, "after_commit", lambda _db: notify(), once=True)
