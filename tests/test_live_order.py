"""Events that reach a node out of order still reach each client in order."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit import connect_customer, connect_rep, hub, open_session
from serverkit import LiveServer
from supportbox.core import events as ev
from supportbox.core.events import Event


def hold_back_first(server: LiveServer) -> None:
    """Make the announcement of the chat line "first" wait until "second"
    has been announced, as two batches (or two nodes) may do."""
    writer = hub(server).events
    announce = writer._announce
    gates: dict[str, asyncio.Event] = {}

    async def out_of_order(lsid: str, events: list[Event]) -> None:
        gate = gates.setdefault("second", asyncio.Event())
        bodies = [e.body for e in events]
        if "first" in bodies:
            await asyncio.wait_for(gate.wait(), 10)
        await announce(lsid, events)
        if "second" in bodies:
            gate.set()

    writer._announce = out_of_order


def test_a_late_announcement_is_filled_from_storage_not_lost(
    server: LiveServer,
) -> None:
    opened = open_session(server)
    hold_back_first(server)

    async def scenario() -> list[dict[str, Any]]:
        customer, _welcome = await connect_customer(server, opened)
        alice, _ = await connect_rep(server, "alice")
        await alice.call("accept", lsid=opened.lsid)
        # Alice's line is stored first and announced last.
        await alice.send("chat", lsid=opened.lsid, body="first")
        await asyncio.sleep(0.2)
        await customer.call("chat", body="second")
        heard = []
        while len(heard) < 2:
            heard.append(await customer.event(ev.CHAT_MESSAGE))
        # Give the held-back announcement time to arrive, then make sure
        # it was not passed on a second time.
        await asyncio.sleep(0.5)
        await customer.call("chat", body="third")
        heard.append(await customer.event(ev.CHAT_MESSAGE))
        await alice.close()
        await customer.close()
        return heard

    heard = asyncio.run(scenario())
    assert [e["body"] for e in heard] == ["first", "second", "third"]
    seqs = [e["seq"] for e in heard]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
