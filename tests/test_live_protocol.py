"""The live protocol against a real server, over real WebSockets."""

from __future__ import annotations

import asyncio

from livekit import connect_customer, connect_rep, open_session, stored_events
from serverkit import LiveServer
from supportbox.core import events as ev


def test_a_rep_accepts_and_chats_with_a_customer(server: LiveServer) -> None:
    opened = open_session(server)

    async def scenario() -> None:
        customer, welcome = await connect_customer(server, opened)
        assert welcome["gsnumber"] == opened.customer_gs
        alice, _ = await connect_rep(server, "alice")
        reply = await alice.call("accept", lsid=opened.lsid)
        assert reply["type"] == "ok", reply
        await customer.event(ev.MEMBER_ADDED)
        assert (await customer.call("chat", body="Hi there"))["type"] == "ok"
        said = await alice.event(ev.CHAT_MESSAGE)
        assert said["body"] == "Hi there"
        await alice.call("chat", lsid=opened.lsid, body="Hello Jane")
        heard = await customer.event(ev.CHAT_MESSAGE, body="Hello Jane")
        assert heard["performed_by"]["name"] == "Alice"
        await customer.close()
        await alice.close()

    asyncio.run(scenario())
    types = [e.event_type for e in stored_events(server, opened.lsid)]
    assert ev.CHAT_MESSAGE in types
