"""Outbound events end to end: real sessions through the hub of a real
server, posted to a real HTTP receiver on loopback.

The test thread drives the hub with ``asyncio.run``; the hub does its
work in threads and the worker, on the server's loop, is woken when the
hub's transaction commits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from receiverkit import Post, Receiver, receiver
from serverkit import LiveServer, run_server
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.runtime import Runtime
from supportbox.settings import Settings
from supportbox.storage.models import (
    SessionEvent,
    SupportSession,
    WebhookDelivery,
)
from supportbox.webhooks import payload, queue, recipients, signing

T = TypeVar("T")

ALICE, BOB = 1, 2
GENERAL = QueueRef("general")


@pytest.fixture
def fast_settings(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> tuple[Settings, dict[str, Any]]:
    settings, credentials = demo_settings
    return settings.replace(webhook_poll_interval=1, webhook_timeout=1), credentials


@pytest.fixture
def live(fast_settings: tuple[Settings, dict[str, Any]]) -> Iterator[LiveServer]:
    with run_server(*fast_settings) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def add_recipient(runtime: Runtime, url: str, **options: Any) -> str:
    """Configure a recipient; returns its secret."""
    name = options.pop("name", "ticketing")
    with runtime.write_db() as db, db.begin():
        _, secret = recipients.add(db, name, url, **options)
    return secret


def drive(runtime: Runtime, scenario: Callable[[Hub], Awaitable[T]]) -> T:
    return asyncio.run(scenario(runtime.services["hub"]))


def request(name: str = "Jane", key: str = "", **custom: str) -> SessionRequest:
    return SessionRequest(
        queue=GENERAL,
        customer=CustomerInfo(name=name, username="jdoe"),
        external_key=key,
        custom=custom,
    )


async def full_session(hub: Hub) -> str:
    """A session that produces every outbound event kind."""
    opened = await hub.open_session(request(key="INC0012345", priority="high"))
    lsid = opened.lsid
    rep = await hub.accept(lsid, ALICE)
    bob = await hub.join(lsid, BOB)
    await hub.chat(lsid, rep, "hello")
    await hub.leave(lsid, bob)
    await hub.end(lsid, rep)
    await hub.submit_survey(lsid, opened.customer_gs, {"rating": "5"})
    await hub.submit_survey(lsid, rep, {"resolved": "yes"})
    return lsid


def expected_events(runtime: Runtime, lsid: str) -> list[str]:
    """The outbound names of a session's stored events, in stored order."""
    with runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        stored = db.scalars(
            select(SessionEvent.event_type)
            .where(SessionEvent.session_id == session.id)
            .order_by(SessionEvent.seq)
        )
        return [payload.OUTBOUND[t] for t in stored if t in payload.OUTBOUND]


def queued_ids(runtime: Runtime, name: str = "ticketing") -> list[str]:
    """Event ids queued for a recipient, in queue order."""
    with runtime.db() as db:
        recipient = recipients.get(db, name)
        return list(
            db.scalars(
                select(WebhookDelivery.event_id)
                .where(WebhookDelivery.recipient_id == recipient.id)
                .order_by(WebhookDelivery.id)
            )
        )


def has_all(ids: list[str]) -> Callable[[list[Post]], bool]:
    return lambda posts: set(ids) <= {p.event_id for p in posts}


def first_seen(posts: list[Post]) -> list[str]:
    seen: list[str] = []
    for post in posts:
        if post.event_id not in seen:
            seen.append(post.event_id)
    return seen


def test_every_event_kind_arrives_with_its_fields_and_a_verifiable_signature(
    live: LiveServer, hook: Receiver
) -> None:
    secret = add_recipient(live.runtime, hook.url, send_custom_fields=True)
    lsid = drive(live.runtime, full_session)
    expected = expected_events(live.runtime, lsid)
    assert set(expected) == set(payload.NAMES)

    posts = hook.wait_for(lambda posts: len(posts) >= len(expected))
    assert [p.form["event"] for p in posts] == expected
    for post in posts:
        assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert post.headers[signing.EVENT_ID_HEADER] == post.event_id
        assert signing.verify(
            secret,
            post.headers[signing.TIMESTAMP_HEADER],
            post.headers[signing.SIGNATURE_HEADER],
            post.body,
        )
        assert not signing.verify(
            "x" * 32,
            post.headers[signing.TIMESTAMP_HEADER],
            post.headers[signing.SIGNATURE_HEADER],
            post.body,
        )
    assert len({p.event_id for p in posts}) == len(posts)

    with live.runtime.db() as db:
        lseq = db.scalar(select(SupportSession.id).where(SupportSession.lsid == lsid))
    begin = posts[0]
    assert [name for name, _ in begin.fields] == [
        "event",
        "version",
        "timestamp",
        "event_id",
        "appliance_id",
        "lsid",
        "external_key",
        "session.custom.priority",
    ]
    assert begin.form["version"] == payload.VERSION
    assert begin.form["appliance_id"] == live.runtime.appliance_id
    assert begin.form["lsid"] == lsid
    assert begin.form["external_key"] == "INC0012345"
    assert begin.form["session.custom.priority"] == "high"
    assert abs(int(begin.form["timestamp"]) - time.time()) < 60

    added = [p.form for p in posts if p.form["event"] == payload.MEMBER_ADDED]
    customer, alice = added[0], added[1]
    assert customer["type"] == "customer"
    assert customer["name"] == customer["display_name"] == "Jane"
    assert customer["username"] == customer["user_id"] == ""
    assert {k: alice[k] for k in payload_member_keys()} == {
        "username": "alice",
        "user_id": str(ALICE),
        "display_name": "Alice",
        "type": "representative",
        "name": "Alice",
        "conference_name": "Jane",
        "conference_id": str(lseq),
    }
    departed = [p.form for p in posts if p.form["event"] == payload.MEMBER_DEPARTED]
    assert departed[0]["username"] == "bob"
    owners = [p.form for p in posts if p.form["event"] == payload.OWNER_CHANGED]
    assert owners[-1]["username"] == "alice"
    survey = next(p.form for p in posts if p.form["event"] == payload.REP_SURVEY)
    assert survey["lsid"] == lsid


def payload_member_keys() -> list[str]:
    return [
        "username",
        "user_id",
        "display_name",
        "type",
        "name",
        "conference_name",
        "conference_id",
    ]


def test_events_keep_their_order_and_a_broken_receiver_holds_up_only_itself(
    live: LiveServer, hook: Receiver
) -> None:
    with receiver() as broken:
        broken.answer = lambda post: 500
        add_recipient(live.runtime, broken.url, name="broken", retry_interval=60)
        add_recipient(live.runtime, hook.url)

        async def interleaved(hub: Hub) -> list[str]:
            first = await hub.open_session(request("Ann"))
            second = await hub.open_session(request("Ben"))
            await hub.accept(first.lsid, ALICE)
            rep = await hub.accept(second.lsid, BOB)
            await hub.end(first.lsid)
            await hub.end(second.lsid, rep)
            return [first.lsid, second.lsid]

        lsids = drive(live.runtime, interleaved)
        ids = queued_ids(live.runtime)
        posts = hook.wait_for(has_all(ids))
        assert [p.event_id for p in posts] == ids
        for lsid in lsids:
            mine = [p.form["event"] for p in posts if p.form["lsid"] == lsid]
            assert mine == expected_events(live.runtime, lsid)
        # The broken receiver saw only its queue head, over and over.
        assert {p.event_id for p in broken.posts} == {
            queued_ids(live.runtime, "broken")[0]
        }


def test_a_receiver_that_fails_then_recovers_gets_every_event_once_by_id(
    live: LiveServer, hook: Receiver
) -> None:
    answers = iter([503, 502, "late"])

    def flaky(post: Post) -> int:
        answer = next(answers, 200)
        if answer == "late":
            time.sleep(1.5)  # processed, but after the server's 1 s timeout
            return 200
        return int(answer)

    hook.answer = flaky
    add_recipient(live.runtime, hook.url, retry_interval=0.1)
    lsid = drive(live.runtime, full_session)

    ids = queued_ids(live.runtime)
    # The late answer counts as a failure, so that event arrives twice.
    posts = hook.wait_for(lambda posts: len(posts) == len(ids) + 1)
    assert first_seen(posts) == ids
    by_id = {p.event_id: p.form["event"] for p in posts}
    assert [by_id[i] for i in ids] == expected_events(live.runtime, lsid)
    with live.runtime.db() as db:
        statuses = set(db.scalars(select(WebhookDelivery.status)))
    assert statuses == {queue.DELIVERED}


def test_a_receiver_down_past_the_retry_duration_dead_letters_and_the_queue_moves_on(
    live: LiveServer, hook: Receiver
) -> None:
    hook.answer = lambda post: 500 if post.form["event"] == payload.BEGIN else 200
    add_recipient(live.runtime, hook.url, retry_interval=0.1, retry_duration=0.5)
    drive(live.runtime, lambda hub: hub.open_session(request()))

    ids = queued_ids(live.runtime)
    posts = hook.wait_for(has_all(ids[1:]))
    assert [p.event_id for p in posts] == ids[1:]
    with live.runtime.db() as db:
        letters = queue.dead_letters(db)
        assert [row.event_id for row, _ in letters] == ids[:1]
        assert letters[0][0].last_error == "HTTP 500"
        assert letters[0][0].attempts >= 2

    hook.answer = lambda post: 200
    with live.runtime.write_db() as db, db.begin():
        assert queue.replay(db, delivery_ids=[letters[0][0].id]) == 1
    replayed = hook.wait_for(has_all(ids))
    assert replayed[-1].event_id == ids[0]
    assert replayed[-1].form["event"] == payload.BEGIN


def test_a_restart_in_the_middle_of_retrying_loses_nothing(
    fast_settings: tuple[Settings, dict[str, Any]], hook: Receiver
) -> None:
    hook.answer = lambda post: 503
    with run_server(*fast_settings) as first:
        add_recipient(first.runtime, hook.url, retry_interval=0.2)
        drive(first.runtime, lambda hub: hub.open_session(request(key="INC7")))
        deadline = time.monotonic() + 10
        while len(hook.posts) < 2:
            assert time.monotonic() < deadline, "the worker never retried"
            time.sleep(0.02)
        ids = queued_ids(first.runtime)

    with first.runtime.db() as db:
        leases = set(db.scalars(select(WebhookDelivery.lease_owner)))
    assert leases == {None}
    assert hook.accepted() == []

    hook.answer = lambda post: 200
    with run_server(*fast_settings) as second:
        posts = hook.wait_for(has_all(ids))
        assert [p.event_id for p in posts] == ids
        assert posts[0].form["external_key"] == "INC7"
        assert second.runtime.services["webhooks"].owner != (
            first.runtime.services["webhooks"].owner
        )


def test_a_slow_receiver_never_slows_a_session_nor_another_receiver(
    live: LiveServer, hook: Receiver
) -> None:
    with receiver() as slow:

        def crawl(post: Post) -> int:
            time.sleep(1.0)
            return 200

        slow.answer = crawl
        add_recipient(live.runtime, slow.url, name="slow")
        add_recipient(live.runtime, hook.url)

        # Posting in the session's path would take a second per event.
        started = time.monotonic()
        lsid = drive(live.runtime, full_session)
        took = time.monotonic() - started
        expected = expected_events(live.runtime, lsid)
        assert took < len(expected) / 2, f"the session took {took:.2f}s"

        hook.wait_for(lambda posts: len(posts) == len(expected), timeout=5)
        assert len(slow.accepted()) < len(expected)
