"""Two nodes sharing one database and one Redis: the hub across nodes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from serverkit import REDIS_URL, needs_redis
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.errors import SessionStateError
from supportbox.features import install
from supportbox.runtime import Runtime, open_runtime
from supportbox.settings import Settings

pytestmark = [pytest.mark.redis, needs_redis]

ALICE, BOB = 1, 2


@pytest.fixture
def nodes(demo_settings: tuple[Settings, dict[str, Any]]) -> Iterator[list[Runtime]]:
    settings = demo_settings[0].replace(broker_url=REDIS_URL)
    runtimes = [open_runtime(settings) for _ in range(2)]
    for runtime in runtimes:
        install(runtime)
    yield runtimes
    for runtime in runtimes:
        runtime.engine.dispose()


def hubs(nodes: list[Runtime]) -> list[Hub]:
    return [node.services["hub"] for node in nodes]


async def started(nodes: list[Runtime]) -> None:
    for node in nodes:
        await node.services["broker"].start()


async def stopped(nodes: list[Runtime]) -> None:
    for node in nodes:
        await node.services["broker"].stop()


def request() -> SessionRequest:
    return SessionRequest(QueueRef("team", 1), CustomerInfo(name="Jane"))


def test_events_made_on_one_node_reach_participants_on_the_other(
    nodes: list[Runtime],
) -> None:
    async def scenario() -> list[str]:
        await started(nodes)
        try:
            node_a, node_b = hubs(nodes)
            opened = await node_a.open_session(request())
            watcher = node_b.broker.subscribe(f"session:{opened.lsid}")
            await watcher.ready()
            gs = await node_b.accept(opened.lsid, ALICE)
            await node_a.chat(opened.lsid, opened.customer_gs, "hello from A")
            await node_b.chat(opened.lsid, gs, "hello from B")
            seen = []
            while len(seen) < 5:
                message = await asyncio.wait_for(watcher.get(), 5)
                seen.append(message["event"]["event_type"])
            watcher.close()
            return seen
        finally:
            await stopped(nodes)

    assert asyncio.run(scenario()) == [
        "Session Transferred Away from Queue",
        "Conference Member Added",
        "Conference Owner Changed",
        "Chat Message",
        "Chat Message",
    ]


def test_two_nodes_accepting_the_same_session_get_one_winner(
    nodes: list[Runtime],
) -> None:
    async def scenario() -> list[object]:
        await started(nodes)
        try:
            node_a, node_b = hubs(nodes)
            opened = await node_a.open_session(request())
            return await asyncio.gather(
                node_a.accept(opened.lsid, ALICE),
                node_b.accept(opened.lsid, BOB),
                return_exceptions=True,
            )
        finally:
            await stopped(nodes)

    outcomes = asyncio.run(scenario())
    assert sum(isinstance(o, int) for o in outcomes) == 1
    assert sum(isinstance(o, SessionStateError) for o in outcomes) == 1


def test_presence_on_one_node_is_seen_from_the_other(nodes: list[Runtime]) -> None:
    async def scenario() -> list[str]:
        await started(nodes)
        try:
            node_a, node_b = hubs(nodes)
            await node_a.rep_online(ALICE)
            return [rep.username for rep in node_b.logged_in_reps()]
        finally:
            await stopped(nodes)

    assert asyncio.run(scenario()) == ["alice"]


def test_two_nodes_writing_chat_to_the_same_sessions_store_every_line(
    nodes: list[Runtime],
) -> None:
    """Each node's batch locks both sessions; in lsid order, so batches
    that name them in opposite orders wait for each other, not deadlock."""

    async def scenario() -> tuple[list[object], list[list[int]]]:
        await started(nodes)
        try:
            node_a, node_b = hubs(nodes)
            first = await node_a.open_session(request())
            second = await node_a.open_session(request())
            gs_first = await node_a.accept(first.lsid, ALICE)
            gs_second = await node_b.accept(second.lsid, BOB)
            lines = []
            for n in range(30):
                lines += [
                    node_a.chat(first.lsid, gs_first, f"a{n}"),
                    node_a.chat(second.lsid, gs_second, f"a{n}"),
                    node_b.chat(second.lsid, gs_second, f"b{n}"),
                    node_b.chat(first.lsid, gs_first, f"b{n}"),
                ]
            outcomes = await asyncio.wait_for(
                asyncio.gather(*lines, return_exceptions=True), 60
            )
            seqs = [
                [e.seq for e in await node_a.events_since(opened.lsid, 0)]
                for opened in (first, second)
            ]
            return outcomes, seqs
        finally:
            await stopped(nodes)

    outcomes, seqs = asyncio.run(scenario())
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert not failed, failed[:3]
    for numbers in seqs:
        assert numbers == list(range(1, len(numbers) + 1))  # no gap, no repeat
        assert len(numbers) > 60
