"""The hub against a real database and the in-process broker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, select

from supportbox.core import batch
from supportbox.core import events as ev
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    SessionStateError,
)
from supportbox.features import install
from supportbox.runtime import Runtime, open_runtime
from supportbox.settings import Settings
from supportbox.storage.models import SessionEvent, SupportSession, SurveyResponse

T = TypeVar("T")

ALICE, BOB, CAROL = 1, 2, 3  # demo users; alice and bob are in Tech Support
TECH = 1


@pytest.fixture
def runtime(demo_settings: tuple[Settings, dict[str, Any]]) -> Iterator[Runtime]:
    runtime = open_runtime(demo_settings[0])
    install(runtime)
    yield runtime
    runtime.engine.dispose()


def run(runtime: Runtime, scenario: Callable[[Hub], Awaitable[T]]) -> T:
    return asyncio.run(scenario(runtime.services["hub"]))


def request(queue: QueueRef, key: str = "") -> SessionRequest:
    return SessionRequest(
        queue=queue,
        customer=CustomerInfo(name="Jane", company="Acme", issue="Printer problem"),
        external_key=key,
    )


def stored_types(runtime: Runtime, lsid: str) -> list[str]:
    with runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        query = (
            select(SessionEvent.event_type)
            .where(SessionEvent.session_id == session.id)
            .order_by(SessionEvent.seq)
        )
        return list(db.scalars(query))


def test_a_session_is_opened_accepted_chatted_and_ended(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> tuple[str, list[dict[str, Any]]]:
        opened = await hub.open_session(request(QueueRef("team", TECH), "INC42"))
        waiting = await hub.waiting_for(ALICE)
        assert [w["lsid"] for w in waiting] == [opened.lsid]
        assert waiting[0]["external_key"] == "INC42"

        subscription = hub.broker.subscribe(f"session:{opened.lsid}")
        rep_gs = await hub.accept(opened.lsid, ALICE)
        await hub.chat(opened.lsid, rep_gs, "Hello Jane")
        await hub.chat(opened.lsid, opened.customer_gs, "Hi!")
        await hub.end(opened.lsid, rep_gs)
        messages = [await subscription.get() for _ in range(7)]
        subscription.close()
        return opened.lsid, messages

    lsid, messages = run(runtime, scenario)
    assert stored_types(runtime, lsid) == [
        ev.SESSION_START,
        ev.OWNER_CHANGED,
        ev.MEMBER_ADDED,
        ev.TO_QUEUE,
        ev.AWAY_FROM_QUEUE,
        ev.MEMBER_ADDED,
        ev.OWNER_CHANGED,
        ev.CHAT_MESSAGE,
        ev.CHAT_MESSAGE,
        ev.MEMBER_DEPARTED,
        ev.MEMBER_DEPARTED,
        ev.SESSION_END,
    ]
    published = [m["event"]["seq"] for m in messages]
    assert published == [5, 6, 7, 8, 9, 10, 11]
    with runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        assert session.status == "ended"
        assert session.end_time is not None


def test_two_representatives_racing_to_accept_get_one_winner(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> list[object]:
        opened = await hub.open_session(request(QueueRef("team", TECH)))
        return await asyncio.gather(
            hub.accept(opened.lsid, ALICE),
            hub.accept(opened.lsid, BOB),
            return_exceptions=True,
        )

    outcomes = run(runtime, scenario)
    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, SessionStateError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert "already taken" in str(losers[0])


def test_a_token_presented_twice_at_once_lets_only_one_in(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> list[list[object]]:
        rounds = []
        for _ in range(5):
            opened = await hub.open_session(request(QueueRef("general")))
            token = opened.join_token
            tries = [hub.authenticate(opened.lsid, token) for _ in range(4)]
            rounds.append(await asyncio.gather(*tries, return_exceptions=True))
        return rounds

    for outcomes in run(runtime, scenario):
        admitted = [o for o in outcomes if isinstance(o, tuple)]
        assert len(admitted) == 1, outcomes
        refused = [o for o in outcomes if not isinstance(o, tuple)]
        assert all(isinstance(o, PermissionDenied) for o in refused), outcomes


def test_a_rep_cannot_take_a_session_outside_their_queues(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> None:
        opened = await hub.open_session(request(QueueRef("team", TECH)))
        await hub.accept(opened.lsid, CAROL)

    with pytest.raises(PermissionDenied):
        run(runtime, scenario)


def test_a_join_token_works_once_and_is_replaced_in_the_same_step(
    runtime: Runtime,
) -> None:
    async def scenario(hub: Hub) -> None:
        opened = await hub.open_session(request(QueueRef("general")))
        gsnumber, following = await hub.authenticate(opened.lsid, opened.join_token)
        assert gsnumber == 1 and following != opened.join_token
        with pytest.raises(PermissionDenied):
            await hub.authenticate(opened.lsid, opened.join_token)
        gsnumber, last = await hub.authenticate(opened.lsid, following)
        assert gsnumber == 1
        with pytest.raises(PermissionDenied):
            await hub.authenticate(opened.lsid, following)
        assert (await hub.authenticate(opened.lsid, last))[0] == 1

    run(runtime, scenario)


def test_events_since_returns_what_a_client_missed(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> list[int]:
        opened = await hub.open_session(request(QueueRef("general")))
        await hub.chat(opened.lsid, 1, "one")
        await hub.chat(opened.lsid, 1, "two")
        missed = await hub.events_since(opened.lsid, 4)
        return [e.seq for e in missed]

    assert run(runtime, scenario) == [5, 6]


def test_surveys_are_stored_once_per_participant(runtime: Runtime) -> None:
    async def scenario(hub: Hub) -> str:
        opened = await hub.open_session(request(QueueRef("general")))
        gs = await hub.accept(opened.lsid, ALICE)
        await hub.end(opened.lsid, gs)
        await hub.submit_survey(opened.lsid, 1, {"rating": "5", "comments": "great"})
        with pytest.raises(SessionStateError):
            await hub.submit_survey(opened.lsid, 1, {"rating": "1"})
        await hub.submit_survey(opened.lsid, gs, {"resolved": "yes"})
        return opened.lsid

    lsid = run(runtime, scenario)
    assert stored_types(runtime, lsid)[-2:] == [
        ev.CUSTOMER_EXIT_SURVEY,
        ev.REP_EXIT_SURVEY,
    ]
    with runtime.db() as db:
        answers = db.scalars(select(SurveyResponse.answers).order_by(SurveyResponse.id))
        assert list(answers) == [
            {"rating": "5", "comments": "great"},
            {"resolved": "yes"},
        ]


def test_presence_lists_logged_in_reps_with_their_session_counts(
    runtime: Runtime,
) -> None:
    async def scenario(hub: Hub) -> None:
        await hub.rep_online(ALICE)
        await hub.rep_online(ALICE)
        opened = await hub.open_session(request(QueueRef("general")))
        await hub.accept(opened.lsid, ALICE)
        reps = hub.logged_in_reps()
        assert [(r.username, r.support_session_count) for r in reps] == [("alice", 1)]
        await hub.rep_offline(ALICE)
        assert len(hub.logged_in_reps()) == 1
        await hub.rep_offline(ALICE)
        assert hub.logged_in_reps() == []

    run(runtime, scenario)


def test_a_least_busy_team_offers_new_sessions_to_an_online_member(
    runtime: Runtime,
) -> None:
    async def scenario(hub: Hub) -> dict[str, Any]:
        await hub.rep_online(BOB)
        offers = hub.broker.subscribe(f"rep:{BOB}")
        opened = await hub.open_session(request(QueueRef("team", TECH)))
        offer = await asyncio.wait_for(offers.get(), 5)
        assert offer["lsid"] == opened.lsid
        return offer

    assert run(runtime, scenario)["type"] == "offer"


def test_the_sweeper_ends_a_session_whose_customer_never_came_back(
    runtime: Runtime,
) -> None:
    from supportbox.core.sweeper import Sweeper

    runtime.settings = runtime.settings.replace(resume_grace=1)

    async def scenario(hub: Hub) -> str:
        opened = await hub.open_session(request(QueueRef("general")))
        gs = await hub.accept(opened.lsid, ALICE)
        await hub.connection(opened.lsid, gs, True)
        await hub.connection(opened.lsid, opened.customer_gs, False)
        sweeper = Sweeper(runtime, hub, interval=0.1)
        await sweeper.sweep()
        assert (await hub.state(opened.lsid)).status == "active"
        await asyncio.sleep(1.1)
        await sweeper.sweep()
        return (await hub.state(opened.lsid)).status

    assert run(runtime, scenario) == "ended"


def test_the_sweeper_disconnects_participants_of_a_dead_node(runtime: Runtime) -> None:
    from supportbox.core.sweeper import Sweeper

    async def scenario(hub: Hub) -> tuple[bool, str]:
        opened = await hub.open_session(request(QueueRef("general")))
        gs = await hub.accept(opened.lsid, ALICE)
        await hub.connection(opened.lsid, gs, True)
        # This "node" never beats: to the sweeper it is dead.
        sweeper = Sweeper(runtime, hub, interval=0.01)
        runtime.node_id, ours = "someone-else", runtime.node_id
        await asyncio.sleep(0.05)
        await sweeper.sweep()
        state = await hub.state(opened.lsid)
        runtime.node_id = ours
        return state.member(gs).connected, stored_types(runtime, opened.lsid)[-1]

    connected, last = run(runtime, scenario)
    assert connected is False
    assert last == ev.MEMBER_STATE_CHANGED


def test_chat_lines_written_together_are_each_stored_once_in_order(
    runtime: Runtime,
) -> None:
    """Chat arriving at once shares transactions; a line the session
    refuses fails alone, a caller that stops waiting leaves the others
    answered, a line for an unknown session fails alone, and every kept
    line is stored once, in order."""
    commits: list[int] = []
    event.listen(runtime.engine, "commit", lambda _conn: commits.append(1))

    async def scenario(hub: Hub) -> tuple[list[str], list[str], list[str]]:
        first = await hub.open_session(request(QueueRef("general")))
        second = await hub.open_session(request(QueueRef("general")))
        first_rep = await hub.accept(first.lsid, ALICE)
        second_rep = await hub.accept(second.lsid, BOB)

        commits.clear()
        gone = asyncio.ensure_future(hub.chat(second.lsid, second_rep, "gone"))
        lines = [
            asyncio.ensure_future(hub.chat(lsid, gs, f"{lsid[:4]} line {n}"))
            for n in range(20)
            for lsid, gs in ((first.lsid, first_rep), (second.lsid, second_rep))
        ]
        refused = asyncio.ensure_future(hub.chat(first.lsid, first_rep, "   "))
        unknown = asyncio.ensure_future(hub.chat("0" * 32, 1, "nobody hears"))
        await asyncio.sleep(0)  # every line is queued
        gone.cancel()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*lines, refused, unknown, return_exceptions=True), 30
        )
        assert isinstance(outcomes[-2], InvalidInput)
        assert isinstance(outcomes[-1], NotFound)
        assert all(isinstance(o, ev.Event) and o.seq for o in outcomes[:-2])
        assert len(commits) < 5, f"{len(commits)} transactions for 42 lines"
        return (
            chat_bodies(runtime, first.lsid),
            chat_bodies(runtime, second.lsid),
            [first.lsid[:4], second.lsid[:4]],
        )

    first, second, prefixes = run(runtime, scenario)
    assert first == [f"{prefixes[0]} line {n}" for n in range(20)]
    # The line whose caller stopped waiting was written all the same.
    assert second == ["gone"] + [f"{prefixes[1]} line {n}" for n in range(20)]
    # Each session's last seq was stored with its events, so the next
    # change numbers on from there.
    with runtime.db() as db:
        for session in db.scalars(select(SupportSession)):
            seqs = db.scalars(
                select(SessionEvent.seq).where(SessionEvent.session_id == session.id)
            ).all()
            assert session.last_seq == max(seqs), session.lsid


def test_a_long_queue_of_chat_is_written_in_batches_of_bounded_size(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "MAX_BATCH", 5)
    commits: list[int] = []
    event.listen(runtime.engine, "commit", lambda _conn: commits.append(1))

    async def scenario(hub: Hub) -> tuple[str, list[str]]:
        opened = await hub.open_session(request(QueueRef("general")))
        rep = await hub.accept(opened.lsid, ALICE)
        commits.clear()
        said = [hub.chat(opened.lsid, rep, f"line {n}") for n in range(12)]
        await asyncio.wait_for(asyncio.gather(*said), 30)
        return opened.lsid, chat_bodies(runtime, opened.lsid)

    _lsid, bodies = run(runtime, scenario)
    assert bodies == [f"line {n}" for n in range(12)]
    assert len(commits) >= 3  # 12 lines, at most 5 to a transaction


def chat_bodies(runtime: Runtime, lsid: str) -> list[str]:
    with runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        query = (
            select(SessionEvent.body, SessionEvent.seq)
            .where(
                SessionEvent.session_id == session.id,
                SessionEvent.event_type == ev.CHAT_MESSAGE,
            )
            .order_by(SessionEvent.seq)
        )
        rows = list(db.execute(query))
        seqs = [seq for _, seq in rows]
        assert len(set(seqs)) == len(seqs)
        return [body for body, _ in rows]
