"""Dropped connections resume without losing or repeating anything."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from livekit import (
    PASSWORD,
    Proxy,
    connect_customer,
    connect_rep,
    hub,
    on_server,
    open_session,
    stored_events,
)
from serverkit import LiveServer, run_server
from supportbox.clients.console import Console
from supportbox.clients.customer import Customer, Ticket
from supportbox.clients.link import Link
from supportbox.clients.rep import Rep
from supportbox.core import events as ev
from supportbox.settings import Settings


def chats(server: LiveServer, lsid: str) -> list[str]:
    return [
        str(e.body)
        for e in stored_events(server, lsid)
        if e.event_type == ev.CHAT_MESSAGE
    ]


async def next_chat(link: Link) -> str:
    while True:
        frame = await asyncio.wait_for(link.inbox.get(), 10)
        if frame["type"] == "event" and frame["event"]["event_type"] == ev.CHAT_MESSAGE:
            return str(frame["event"]["body"])


async def until(link: Link, kind: str, **match: Any) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(link.inbox.get(), 10)
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


def quiet_customer(url: str, opened: Any) -> Customer:
    ticket = Ticket(url, opened.lsid, opened.join_token)
    return Customer(ticket, Console(True), lines=asyncio.Queue(), answers={})


def test_a_customer_whose_connection_is_cut_misses_nothing(server: LiveServer) -> None:
    opened = open_session(server)

    async def scenario() -> list[str]:
        proxy = Proxy(server.runtime.settings.port)
        await proxy.start()
        customer = quiet_customer(proxy.url, opened)
        link = customer.link
        runner = asyncio.create_task(link.run())
        await until(link, "joined")
        alice, _ = await connect_rep(server, "alice")
        await alice.call("accept", lsid=opened.lsid)

        await link.command("chat", body="one")
        assert await next_chat(link) == "one"
        await alice.event(ev.CHAT_MESSAGE, body="one")

        # The network dies right after the customer sends "two"; Alice
        # talks while the customer is away.
        await link.command("chat", body="two")
        proxy.cut()
        await alice.event(ev.MEMBER_STATE_CHANGED)
        await alice.call("chat", lsid=opened.lsid, body="three")
        await alice.call("chat", lsid=opened.lsid, body="four")
        await until(link, "link", state="resumed")
        await link.command("chat", body="five")

        heard = [await next_chat(link) for _ in range(4)]
        await alice.event(ev.CHAT_MESSAGE, body="five")
        await link.close()
        runner.cancel()
        await alice.close()
        await proxy.stop()
        return heard

    heard = asyncio.run(scenario())
    assert sorted(heard) == ["five", "four", "three", "two"]
    assert heard[-1] == "five"
    stored = chats(server, opened.lsid)
    assert sorted(stored) == ["five", "four", "one", "three", "two"]
    states = [
        dict(e.data)["state"]
        for e in stored_events(server, opened.lsid)
        if e.event_type == ev.MEMBER_STATE_CHANGED
    ]
    # The cut and the resume; the client's own close at the end may be
    # stored too, before or after this reads.
    assert states[:2] == ["disconnected", "connected"]
    assert states[2:] in ([], ["disconnected"])


ALICE_AS_OWNER = {"type": "representative", "gsnumber": 2, "name": "Alice"}


def heard_by(out: io.StringIO) -> list[str]:
    frames = [json.loads(line) for line in out.getvalue().splitlines()]
    return [
        f["event"]["body"]
        for f in frames
        if f["type"] == "event" and f["event"]["event_type"] == ev.CHAT_MESSAGE
    ]


def test_a_rep_whose_connection_is_cut_resumes_the_session(server: LiveServer) -> None:
    opened = open_session(server)
    out = io.StringIO()

    async def scenario() -> None:
        proxy = Proxy(server.runtime.settings.port)
        await proxy.start()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        rep = Rep(
            proxy.url, "alice", PASSWORD, Console(True, out), lines=lines, answers={}
        )
        app = asyncio.create_task(rep.run())
        customer, _ = await connect_customer(server, opened)
        lines.put_nowait(json.dumps({"type": "accept", "lsid": opened.lsid}))
        await customer.event(ev.OWNER_CHANGED, destination=ALICE_AS_OWNER)
        await customer.call("chat", body="before")

        proxy.cut()
        await customer.event(ev.MEMBER_STATE_CHANGED)
        await customer.call("chat", body="while away 1")
        await customer.call("chat", body="while away 2")
        await customer.event(ev.MEMBER_STATE_CHANGED)  # connected again
        lines.put_nowait("back")
        await customer.event(ev.CHAT_MESSAGE, body="back")
        for _ in range(50):
            if "back" in heard_by(out):
                break
            await asyncio.sleep(0.1)

        lines.put_nowait(None)
        assert await asyncio.wait_for(app, 10) == 0
        await customer.close()
        await proxy.stop()

    asyncio.run(scenario())
    expected = ["before", "while away 1", "while away 2", "back"]
    assert chats(server, opened.lsid) == expected
    assert heard_by(out) == expected


@pytest.fixture
def short_grace_server(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> Iterator[LiveServer]:
    settings, credentials = demo_settings
    with run_server(settings.replace(resume_grace=1), credentials) as live:
        yield live


def test_a_customer_who_does_not_come_back_in_time_ends_the_session(
    short_grace_server: LiveServer,
) -> None:
    server = short_grace_server
    opened = open_session(server)

    async def scenario() -> dict[str, Any]:
        customer, welcome = await connect_customer(server, opened)
        alice, _ = await connect_rep(server, "alice")
        await alice.call("accept", lsid=opened.lsid)
        customer.ws.transport.abort()
        await alice.event(ev.SESSION_END)
        _late, refused = await connect_customer(
            server, opened, token=welcome["resume_token"]
        )
        await alice.close()
        return refused

    refused = asyncio.run(scenario())
    assert refused["type"] == "error" and refused["code"] == "auth_failed"
    state = on_server(server, hub(server).state(opened.lsid))
    assert state.status == "ended"
