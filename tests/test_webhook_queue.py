"""The delivery queue, its signature and its worker, below the hub."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from receiverkit import Post, Receiver, receiver
from serverkit import init_data_dir
from supportbox.core import events as ev
from supportbox.core.events import Actor, Event
from supportbox.errors import InvalidInput, NotFound
from supportbox.features import install
from supportbox.runtime import Runtime, open_runtime
from supportbox.settings import Settings
from supportbox.storage.models import WebhookDelivery
from supportbox.webhooks import payload, queue, recipients, signing
from supportbox.webhooks.observer import WebhookObserver
from supportbox.webhooks.worker import WebhookWorker


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """An initialised database without demo data (quick to prepare)."""
    init_data_dir(data_dir, database_url, demo=False)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        webhook_poll_interval=1,
        webhook_timeout=2,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    yield runtime
    runtime.engine.dispose()


def test_the_signature_covers_timestamp_and_exact_body() -> None:
    body = b"event=support_conference_end&lsid=abc"
    headers = signing.headers("a-shared-secret!", body, "e1", now=1_700_000_000)
    stamp, sig = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
    assert stamp == "1700000000"
    assert sig.startswith("sha256=") and len(sig) == 7 + 64

    def check(secret: str, at: str, received: bytes, now: float) -> bool:
        return signing.verify(secret, at, sig, received, now=now)

    assert check("a-shared-secret!", stamp, body, 1_700_000_100)
    assert not check("a-shared-secret!", stamp, body + b"x", 1_700_000_100)
    assert not check("another-secret!!", stamp, body, 1_700_000_100)
    assert not check("a-shared-secret!", "1700000001", body, 1_700_000_100)
    assert not check("a-shared-secret!", stamp, body, 1_700_000_000 + 301)
    assert not check("a-shared-secret!", "soon", body, 1_700_000_000)


def test_retries_back_off_exponentially_up_to_the_retry_interval() -> None:
    delays = [queue.retry_delay(n, 10) for n in range(1, 7)]
    assert delays == [1, 2, 4, 8, 10, 10]
    assert queue.retry_delay(1, 0.2) == 0.2
    assert queue.retry_delay(10_000, 3600) == 3600


def stored_event(kind: str, **fields: Any) -> Event:
    return Event(kind, timestamp=1_733_240_467, **fields)


def test_only_enabled_recipients_get_the_events_they_chose(runtime: Runtime) -> None:
    with runtime.write_db() as db, db.begin():
        recipients.add(db, "all", "http://127.0.0.1:9/a")
        recipients.add(db, "ends", "http://127.0.0.1:9/e", events=[payload.END])
        recipients.add(db, "off", "http://127.0.0.1:9/o", enabled=False)
    observer = WebhookObserver(runtime.appliance_id)
    with runtime.write_db() as db, db.begin():
        observer.on_events(
            db,
            "f" * 32,
            "INC1",
            [
                stored_event(ev.SESSION_START),
                stored_event(ev.CHAT_MESSAGE, body="hi"),
                stored_event(ev.SESSION_END, performed_by=Actor.system()),
            ],
        )
    with runtime.db() as db:
        rows = db.execute(
            select(WebhookDelivery.recipient_id, WebhookDelivery.event).order_by(
                WebhookDelivery.id
            )
        ).all()
        assert [tuple(r) for r in rows] == [
            (1, payload.BEGIN),
            (1, payload.END),
            (2, payload.END),
        ]
        end = db.scalars(
            select(WebhookDelivery.body).where(WebhookDelivery.event == payload.END)
        ).all()
    # Every recipient gets the same event id for the same event.
    assert end[0] == end[1]
    assert end[0] == payload.encode(
        [
            ("event", payload.END),
            ("version", payload.VERSION),
            ("timestamp", "1733240467"),
            ("event_id", end[0].split("event_id=")[1].split("&")[0]),
            ("appliance_id", runtime.appliance_id),
            ("lsid", "f" * 32),
            ("external_key", "INC1"),
        ]
    )


def test_events_are_queued_only_if_the_transaction_commits(runtime: Runtime) -> None:
    with runtime.write_db() as db, db.begin():
        recipients.add(db, "all", "http://127.0.0.1:9/a")
    observer = WebhookObserver(runtime.appliance_id)
    with runtime.write_db() as db:
        db.begin()
        observer.on_events(db, "a" * 32, "", [stored_event(ev.SESSION_START)])
        db.rollback()
    with runtime.db() as db:
        assert db.scalars(select(WebhookDelivery)).all() == []


def test_two_workers_on_one_database_send_each_event_once_in_order(
    settings: Settings,
) -> None:
    first, second = open_runtime(settings), open_runtime(settings)
    with receiver() as hook:

        def slowish(post: Post) -> int:
            time.sleep(0.01)
            return 200

        hook.answer = slowish
        with first.write_db() as db, db.begin():
            recipient, _ = recipients.add(db, "shared", hook.url)
            for n in range(30):
                queue.enqueue(
                    db, recipient.id, f"{n:032x}", payload.END, "", f"n={n}", 0.0
                )
        asyncio.run(_run_both(first, second, hook))

    ids = [p.headers[signing.EVENT_ID_HEADER] for p in hook.posts]
    assert ids == [f"{n:032x}" for n in range(30)]
    for runtime in (first, second):
        runtime.engine.dispose()


async def _run_both(first: Runtime, second: Runtime, hook: Receiver) -> None:
    workers = [WebhookWorker(first), WebhookWorker(second)]
    for worker in workers:
        await worker.start()
    try:
        deadline = time.monotonic() + 20
        while len(hook.accepted()) < 30 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        for worker in workers:
            await worker.stop()


def test_a_server_installs_the_worker_and_its_observer(runtime: Runtime) -> None:
    install(runtime)
    assert isinstance(runtime.services["webhooks"], WebhookWorker)
    assert any(isinstance(o, WebhookObserver) for o in runtime.observers)


def test_discarding_deletes_only_the_dead_letters_named(runtime: Runtime) -> None:
    def row(recipient_id: int, status: str) -> WebhookDelivery:
        now = time.time()
        return WebhookDelivery(
            recipient_id=recipient_id,
            event_id=payload.new_event_id(),
            event=payload.BEGIN,
            body="",
            status=status,
            created_at=now,
            next_attempt_at=now,
        )

    with runtime.write_db() as db, db.begin():
        one, _ = recipients.add(db, "one", "https://one.example.com/")
        two, _ = recipients.add(db, "two", "https://two.example.com/")
        rows = [row(one.id, queue.DEAD), row(one.id, queue.DEAD)]
        rows += [row(one.id, queue.PENDING), row(two.id, queue.DEAD)]
        db.add_all(rows)
        db.flush()
        first, second, waiting, theirs = (r.id for r in rows)
        ids = (one.id, two.id)

    with runtime.write_db() as db, db.begin():
        with pytest.raises(InvalidInput):
            queue.discard(db)
        with pytest.raises(NotFound, match=f"no dead letter {theirs}"):
            queue.discard(db, recipient_id=ids[0], delivery_ids=[theirs])
        with pytest.raises(NotFound):
            queue.discard(db, delivery_ids=[waiting])
        assert queue.discard(db, delivery_ids=[first]) == 1
        assert queue.discard(db, recipient_id=ids[0]) == 1
    with runtime.db() as db:
        left = set(db.scalars(select(WebhookDelivery.id)))
    assert left == {waiting, theirs} and second not in left
