"""The live protocol against a real server, over real WebSockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect

import webclient
from livekit import (
    Peer,
    connect_customer,
    connect_rep,
    hub,
    on_server,
    open_session,
    stored_events,
)
from serverkit import LiveServer, run_server
from supportbox.core import events as ev
from supportbox.settings import Settings


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


def test_bad_frames_get_error_frames_and_the_connection_stays_usable(
    server: LiveServer,
) -> None:
    opened = open_session(server)
    other = open_session(server)

    async def scenario() -> list[dict[str, Any]]:
        bare = Peer(await connect(server.ws_url + "/live"))
        await bare.send("chat", body="too early")
        early = await bare.expect("error")
        await bare.close()

        customer, _ = await connect_customer(server, opened)
        errors = [early]
        for text in (
            "not json",
            "[1, 2]",
            '{"no": "type"}',
            '{"type": "teleport", "id": "x1"}',
            '{"type": "chat", "id": "x2"}',
            '{"type": "chat", "id": "x3", "body": 5}',
            json.dumps({"type": "chat", "body": "x" * (300 * 1024)}),
            json.dumps(
                {"type": "chat", "body": "é" * (150 * 1024)}, ensure_ascii=False
            ),
        ):
            await customer.send_raw(text)
            errors.append(await customer.expect("error"))
        await customer.send_raw(b"\x00\x01binary")
        errors.append(await customer.expect("error"))
        errors.append(await customer.call("chat", lsid=other.lsid, body="hi"))
        errors.append(await customer.call("accept"))
        errors.append(await customer.call("chat", body=""))

        assert (await customer.call("chat", body="still here"))["type"] == "ok"
        await customer.close()
        return errors

    before = len(stored_events(server, opened.lsid))
    errors = asyncio.run(scenario())
    assert [e["code"] for e in errors] == [
        "not_authenticated",
        "malformed",
        "malformed",
        "malformed",
        "unknown_type",
        "invalid",
        "invalid",
        "too_large",
        "too_large",
        "invalid",  # stream data for no open stream
        "not_in_session",
        "forbidden",
        "invalid",
    ]
    assert errors[4]["re"] == "x1"
    assert all(e["type"] == "error" and e["message"] for e in errors)
    after = [
        (e.event_type, e.body)
        for e in stored_events(server, opened.lsid)[before:]
        if e.event_type != ev.MEMBER_STATE_CHANGED  # the closed socket, maybe
    ]
    assert after == [(ev.CHAT_MESSAGE, "still here")]


def test_two_reps_racing_for_one_session_get_one_winner(server: LiveServer) -> None:
    opened = open_session(server, "team:1")

    async def scenario() -> list[dict[str, Any]]:
        alice, _ = await connect_rep(server, "alice")
        bob, _ = await connect_rep(server, "bob")
        replies = await asyncio.gather(
            alice.call("accept", lsid=opened.lsid), bob.call("accept", lsid=opened.lsid)
        )
        await alice.close()
        await bob.close()
        return list(replies)

    replies = asyncio.run(scenario())
    assert sorted(r["type"] for r in replies) == ["error", "ok"]
    loser = next(r for r in replies if r["type"] == "error")
    assert loser["code"] == "session_state"
    assert "already taken" in loser["message"]
    added = [
        e for e in stored_events(server, opened.lsid) if e.event_type == ev.MEMBER_ADDED
    ]
    assert len(added) == 2  # the customer and the one winner


def test_customers_never_see_session_notes(server: LiveServer) -> None:
    opened = open_session(server)

    async def scenario() -> list[str]:
        customer, _ = await connect_customer(server, opened)
        alice, _ = await connect_rep(server, "alice")
        await alice.call("accept", lsid=opened.lsid)
        await alice.call("note", lsid=opened.lsid, body="customer is grumpy")
        await alice.call("chat", lsid=opened.lsid, body="after the note")
        await customer.event(ev.CHAT_MESSAGE, body="after the note")
        await alice.event(ev.NOTE_ADDED)
        await customer.close()
        await alice.close()
        return [
            f["event"]["event_type"] for f in customer.frames if f["type"] == "event"
        ]

    seen = asyncio.run(scenario())
    assert ev.NOTE_ADDED not in seen and ev.CHAT_MESSAGE in seen


def test_repeated_wrong_passwords_are_rate_limited(server: LiveServer) -> None:
    async def scenario() -> list[str]:
        codes = []
        for _ in range(11):
            peer = Peer(await connect(server.ws_url + "/live"))
            await peer.send(
                "hello", v=1, role="representative", username="bob", password="wrong"
            )
            codes.append((await peer.expect("error"))["code"])
            await peer.close()
        return codes

    codes = asyncio.run(scenario())
    assert codes == ["auth_failed"] * 10 + ["rate_limited"]


def test_failures_count_per_username_without_case_at_every_door(
    server: LiveServer,
) -> None:
    async def live_failures() -> None:
        for _ in range(10):
            peer = Peer(await connect(server.ws_url + "/live"))
            await peer.send(
                "hello", v=1, role="representative", username="BOB", password="x"
            )
            assert (await peer.expect("error"))["code"] == "auth_failed"
            await peer.close()

    asyncio.run(live_failures())
    # Forget the address, so that only the username's count is left.
    server.runtime.services["ratelimit"].success("ip:127.0.0.1")

    bob = server.credentials["reps"][1]
    assert bob["username"] == "bob"
    _web, locked = webclient.log_in(server, "Bob", bob["password"])
    assert locked.status_code == 429
    assert webclient.rep(server, 0).get("/console").status_code == 200


def test_wrong_customer_tokens_do_not_lock_representatives_out(
    server: LiveServer,
) -> None:
    opened = open_session(server)

    async def scenario() -> list[str]:
        codes = []
        for _ in range(11):
            peer, first = await connect_customer(server, opened, token="wrong")
            codes.append(first["code"])
            await peer.close()
        alice, _welcome = await connect_rep(server, "alice")
        await alice.close()
        return codes

    codes = asyncio.run(scenario())
    assert codes == ["auth_failed"] * 10 + ["rate_limited"]


def test_a_command_resent_with_the_same_id_is_not_done_twice(
    server: LiveServer,
) -> None:
    opened = open_session(server)

    async def scenario() -> list[dict[str, Any]]:
        customer, _ = await connect_customer(server, opened)
        frame = json.dumps({"type": "chat", "id": "same", "body": "only once"})
        replies = []
        for _ in range(2):
            await customer.send_raw(frame)
            replies.append(await customer.expect("ok", re="same"))
        await customer.close()
        return replies

    first, second = asyncio.run(scenario())
    assert second == {**first, "duplicate": True}
    assert [e.body for e in stored_events(server, opened.lsid)].count("only once") == 1


@pytest.fixture
def impatient_server(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> Iterator[LiveServer]:
    settings, credentials = demo_settings
    with run_server(settings.replace(live_idle_timeout=1), credentials) as live:
        yield live


def test_a_silent_client_is_closed_and_a_pinging_one_is_not(
    impatient_server: LiveServer,
) -> None:
    server = impatient_server
    opened = open_session(server)

    async def scenario() -> tuple[dict[str, Any], int | None, str]:
        customer, _ = await connect_customer(server, opened)
        for _ in range(4):  # two seconds of pings at half the timeout
            await customer.send("ping")
            await customer.expect("pong")
            await asyncio.sleep(0.5)
        alive = (await customer.call("chat", body="still connected"))["type"]
        warning = await customer.expect("error")
        await customer.ws.wait_closed()
        return warning, customer.ws.close_code, alive

    warning, code, alive = asyncio.run(scenario())
    assert alive == "ok"
    assert warning["code"] == "idle_timeout"
    assert code == 4000


def test_participants_are_stored_with_the_address_and_port_they_came_from(
    server: LiveServer,
) -> None:
    opened = open_session(server)

    async def scenario() -> tuple[int, int]:
        customer, _ = await connect_customer(server, opened)
        alice, _ = await connect_rep(server, "alice")
        await alice.call("accept", lsid=opened.lsid)
        ports = (
            customer.ws.local_address[1],
            alice.ws.local_address[1],
        )
        await customer.close()
        await alice.close()
        return ports

    customer_port, alice_port = asyncio.run(scenario())
    state = on_server(server, hub(server).state(opened.lsid))
    found = {m.gsnumber: m.public_ip for m in state.members.values()}
    assert found[opened.customer_gs] == f"127.0.0.1:{customer_port}"
    assert f"127.0.0.1:{alice_port}" in found.values()
