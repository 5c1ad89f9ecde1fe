"""A whole support session between the real terminal clients."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from clientkit import Client, event, of_type
from livekit import open_session, stored_events
from serverkit import LiveServer
from supportbox.cli.main import main as cli_main
from supportbox.core import events as ev
from supportbox.storage.models import SessionEvent, SurveyResponse


def actor(event: SessionEvent) -> str:
    who = event.performed_by or event.destination
    return f"{who['type']}:{who['name']}" if who else "-"


async def wait_for_surveys(server: LiveServer, count: int) -> None:
    for _ in range(100):
        with server.runtime.db() as db:
            if len(list(db.scalars(select(SurveyResponse)))) >= count:
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the exit surveys were not stored")


# Four client processes start; on a loaded 2-core machine that takes a while.
@pytest.mark.timeout(240)
def test_a_session_runs_from_request_to_both_exit_surveys(server: LiveServer) -> None:
    # The customer fills in the public site's issue form, with the
    # integration's external key, and gets the launcher's arguments.
    query = (
        "issue_menu=1&codeName=printer&customer.name=Jane&customer.company=Acme"
        "&session.custom.external_key=WEB-7&client=cli"
    )
    with server.http() as http:
        started = http.get(f"/api/start_session?{query}").json()
    lsid = started["lsid"]

    async def scenario() -> tuple[Client, ...]:
        customer = await Client.start(
            "customer",
            "customer",
            "--server",
            started["server"],
            "--lsid",
            lsid,
            "--token",
            started["token"],
            "--answer",
            "rating=5",
            "--answer",
            "comments=quick help",
        )
        rep_args = ("--server", server.url, "--username")
        alice = await Client.start("alice", "rep", *rep_args, "alice")
        bob = await Client.start(
            "bob", "rep", *rep_args, "bob", "--answer", "resolved=yes"
        )
        carol = await Client.start("carol", "rep", *rep_args, "carol")
        clients = (customer, alice, bob, carol)
        try:
            await customer.expect(of_type("ok"))  # its system information
            for rep in (alice, bob, carol):
                await rep.expect(of_type("welcome"))

            await alice.send("accept", lsid=lsid)
            await alice.expect(of_type("ok", lsid=lsid))
            await customer.expect(event(ev.OWNER_CHANGED))
            await customer.say("My printer prints nothing")
            await alice.expect(event(ev.CHAT_MESSAGE, body="My printer prints nothing"))
            await alice.send("chat", body="Let me look")
            await customer.expect(event(ev.CHAT_MESSAGE, body="Let me look"))
            await alice.send("external_key", external_key="INC1")
            await alice.expect(event(ev.EXTERNAL_KEY))

            await alice.send("transfer", to="rep:2")
            await alice.expect(of_type("survey", survey="rep"))
            await bob.send("accept", lsid=lsid)
            await bob.expect(of_type("ok", lsid=lsid))
            await bob.send("invite", username="carol")
            await carol.expect(of_type("offer", lsid=lsid, reason="invitation"))
            await carol.send("join", lsid=lsid)
            await carol.expect(of_type("ok", lsid=lsid))
            await bob.send("chat", body="Carol knows printers")
            await customer.expect(event(ev.CHAT_MESSAGE, body="Carol knows printers"))
            await carol.send("chat", body="Turn it off and on")
            await customer.expect(event(ev.CHAT_MESSAGE, body="Turn it off and on"))

            await bob.send("end")
            await bob.expect(of_type("left"))
            assert await customer.finish() == 0
            await wait_for_surveys(server, 2)
        finally:
            for client in clients:
                await client.stop()
        return clients

    customer, alice, *_ = asyncio.run(scenario())
    waiting = [w for q in alice.lines if q["type"] == "queues" for w in q["waiting"]]
    assert {"lsid": lsid, "external_key": "WEB-7"}.items() <= waiting[0].items()
    assert server.runtime.services["hub"].session_custom(lsid)[0] == "INC1"

    events = stored_events(server, lsid)
    seen = [(e.event_type, actor(e)) for e in events]
    end = seen.index((ev.SESSION_END, "representative:Bob")) + 1
    assert seen[:end] == [
        (ev.SESSION_START, "-"),
        (ev.OWNER_CHANGED, "system:Pre-start Conference"),
        (ev.MEMBER_ADDED, "customer:Jane"),
        (ev.TO_QUEUE, "system:Bomgar"),
        (ev.SYSTEM_INFORMATION, "customer:Jane"),
        (ev.AWAY_FROM_QUEUE, "-"),
        (ev.MEMBER_ADDED, "representative:Alice"),
        (ev.OWNER_CHANGED, "representative:Alice"),
        (ev.CHAT_MESSAGE, "customer:Jane"),
        (ev.CHAT_MESSAGE, "representative:Alice"),
        (ev.EXTERNAL_KEY, "representative:Alice"),
        (ev.TO_QUEUE, "representative:Alice"),
        (ev.MEMBER_DEPARTED, "representative:Alice"),
        (ev.OWNER_CHANGED, "system:Bob"),
        (ev.AWAY_FROM_QUEUE, "-"),
        (ev.MEMBER_ADDED, "representative:Bob"),
        (ev.OWNER_CHANGED, "representative:Bob"),
        (ev.MEMBER_ADDED, "representative:Carol"),
        (ev.CHAT_MESSAGE, "representative:Bob"),
        (ev.CHAT_MESSAGE, "representative:Carol"),
        (ev.MEMBER_DEPARTED, "customer:Jane"),
        (ev.MEMBER_DEPARTED, "representative:Bob"),
        (ev.MEMBER_DEPARTED, "representative:Carol"),
        (ev.SESSION_END, "representative:Bob"),
    ]
    assert Counter(seen[end:]) == Counter(
        [
            (ev.CUSTOMER_EXIT_SURVEY, "customer:Jane"),
            (ev.REP_EXIT_SURVEY, "representative:Bob"),
        ]
    )
    with server.runtime.db() as db:
        answers = {r.survey: r.answers for r in db.scalars(select(SurveyResponse))}
    assert answers == {
        "customer": {"rating": "5", "comments": "quick help"},
        "rep": {"resolved": "yes"},
    }
    chats = [e["body"] for e in customer.events(ev.CHAT_MESSAGE)]
    assert chats == [
        "My printer prints nothing",
        "Let me look",
        "Carol knows printers",
        "Turn it off and on",
    ]
    overview = events[4].system_information
    assert overview is not None and overview[0]["fields"][:2] == ["hostname", "os"]


def test_the_customer_command_says_what_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["customer"]) == 1
    assert "give --server with --lsid and --token" in capsys.readouterr().err
    assert cli_main(["customer", "--lsid", "x", "--token", "y"]) == 1
    assert "--lsid and --token need --server too" in capsys.readouterr().err


def test_a_customer_with_a_bad_token_is_refused_in_one_line(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    opened = open_session(server)
    args = ["customer", "--server", server.url, "--lsid", opened.lsid]
    assert cli_main([*args, "--token", "not-the-token"]) == 1
    assert capsys.readouterr().err == (
        "supportbox: error: the session token is not valid\n"
    )
