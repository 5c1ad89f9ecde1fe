"""A node dies mid-session: both clients carry on through another node."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from clientkit import Client, event, of_type
from clusterkit import run_cluster
from serverkit import REDIS_URL, needs_redis
from supportbox.core import events as ev
from supportbox.settings import Settings
from supportbox.storage.models import SessionEvent, SupportSession

pytestmark = [pytest.mark.redis, needs_redis, pytest.mark.slow]


def stored_chat(database_url: str, lsid: str) -> list[str]:
    engine = create_engine(database_url.replace("postgresql:", "postgresql+psycopg:"))
    try:
        with engine.connect() as conn:
            session_id = conn.scalar(
                select(SupportSession.id).where(SupportSession.lsid == lsid)
            )
            rows = conn.scalars(
                select(SessionEvent.body)
                .where(
                    SessionEvent.session_id == session_id,
                    SessionEvent.event_type == ev.CHAT_MESSAGE,
                )
                .order_by(SessionEvent.seq)
            )
            return [str(body) for body in rows]
    finally:
        engine.dispose()


@pytest.mark.timeout(240)
def test_a_session_survives_the_node_it_was_on_being_killed(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = demo_settings
    with run_cluster(settings.data_dir, settings.db_url, REDIS_URL) as cluster:
        first, second = cluster.urls
        # Both clients know both nodes and start on the first.
        servers = f"{first},{second}"
        query = "issue_menu=1&codeName=printer&customer.name=Jane&client=cli"
        started = httpx.get(f"{first}/api/start_session?{query}").json()
        lsid = started["lsid"]

        async def scenario() -> None:
            customer = await Client.start(
                "customer",
                "customer",
                "--server",
                servers,
                "--lsid",
                lsid,
                "--token",
                started["token"],
            )
            alice = await Client.start(
                "alice", "rep", "--server", servers, "--username", "alice"
            )
            try:
                await customer.expect(of_type("welcome"))
                await alice.expect(of_type("welcome"))
                await alice.send("accept", lsid=lsid)
                await alice.expect(of_type("ok", lsid=lsid))
                # The customer's first command (its system information) is
                # answered; then its line is, before the crash: a command
                # whose answer died with its node is sent again, and done
                # again (docs/limitations.md).
                await customer.expect(of_type("ok"))
                mark = len(customer.lines)
                await customer.say("before the crash")
                await alice.expect(event(ev.CHAT_MESSAGE, body="before the crash"))
                while not any(x["type"] == "ok" for x in customer.lines[mark:]):
                    await customer.expect(lambda _line: True)

                cluster.nodes[0].kill()

                # Both reconnect to the second node and resume.
                await customer.expect(of_type("link", state="resumed"), timeout=60)
                await alice.expect(of_type("welcome"), timeout=60)
                await alice.send("chat", lsid=lsid, body="still here")
                await customer.expect(event(ev.CHAT_MESSAGE, body="still here"))
                await customer.say("after the crash")
                await alice.expect(event(ev.CHAT_MESSAGE, body="after the crash"))
            finally:
                await customer.stop()
                await alice.stop()

        asyncio.run(scenario())

    # Every acknowledged message is stored once, in order.
    assert stored_chat(settings.db_url, lsid) == [
        "before the crash",
        "still here",
        "after the crash",
    ]


def token(url: str, credentials: dict[str, Any]) -> str:
    api = credentials["api"]
    response = httpx.post(
        f"{url}/oauth2/token",
        auth=(api["client_id"], api["client_secret"]),
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def command(url: str, bearer: str, **params: str) -> str:
    response = httpx.get(
        f"{url}/api/command",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200
    return response.text


def report(url: str, bearer: str, **params: str) -> str:
    response = httpx.get(
        f"{url}/api/reporting",
        params=params,
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200
    # Signed links carry their own expiry time; the rest must be identical.
    return re.sub(r"<([a-z_]+_url)>[^<]*</\1>", "", response.text)


@pytest.mark.timeout(240)
def test_three_nodes_share_one_session_and_agree_on_it(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> None:
    settings, credentials = demo_settings
    with run_cluster(settings.data_dir, settings.db_url, REDIS_URL, 3) as cluster:
        first, second, third = cluster.urls
        query = "issue_menu=1&codeName=printer&customer.name=Jane&client=cli"
        started = httpx.get(f"{first}/api/start_session?{query}").json()
        lsid = started["lsid"]
        bearer = token(third, credentials)

        async def scenario() -> None:
            # The customer is on the first node, the representative on the
            # second, and an integration drives the session from the third.
            customer = await Client.start(
                "customer",
                "customer",
                "--server",
                first,
                "--lsid",
                lsid,
                "--token",
                started["token"],
            )
            alice = await Client.start(
                "alice", "rep", "--server", second, "--username", "alice"
            )
            try:
                await customer.expect(of_type("welcome"))
                await alice.expect(of_type("welcome"))
                await alice.send("accept", lsid=lsid)
                await customer.expect(event(ev.OWNER_CHANGED))
                await customer.say("across nodes")
                await alice.expect(event(ev.CHAT_MESSAGE, body="across nodes"))

                moved = command(
                    third,
                    bearer,
                    action="transfer_session",
                    lsid=lsid,
                    queue_id="rep:2",
                )
                assert "Successfully transferred" in moved
                await customer.expect(event(ev.TO_QUEUE))
                await alice.expect(event(ev.MEMBER_DEPARTED))

                ended = command(third, bearer, action="terminate_session", lsid=lsid)
                assert "Successfully terminated" in ended
                await customer.expect(event(ev.SESSION_END))
            finally:
                await customer.stop()
                await alice.stop()

        asyncio.run(scenario())

        # Every node reports the same session the same way.
        reports = {
            report(url, bearer, generate_report="SupportSession", lsid=lsid)
            for url in cluster.urls
        }
        assert len(reports) == 1
        assert "across nodes" in reports.pop()


@pytest.mark.timeout(120)
def test_one_session_key_redeemed_on_two_nodes_at_once_opens_one_session(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> None:
    settings, credentials = demo_settings
    with run_cluster(settings.data_dir, settings.db_url, REDIS_URL) as cluster:
        first, second = cluster.urls
        bearer = token(first, credentials)
        keys = [
            re.search(
                r"<short_key>(\d{7})</short_key>",
                command(
                    first,
                    bearer,
                    action="generate_session_key",
                    type="support",
                    queue_id="general",
                ),
            )
            for _ in range(5)
        ]

        async def race(short_key: str) -> list[int]:
            async with httpx.AsyncClient() as http:
                answers = await asyncio.gather(
                    *(
                        http.get(
                            f"{url}/api/start_session",
                            params={"short_key": short_key, "client": "cli"},
                        )
                        for url in (first, second)
                    )
                )
            return sorted(answer.status_code for answer in answers)

        for match in keys:
            assert match is not None
            outcomes = asyncio.run(race(match.group(1)))
            assert outcomes[0] == 200
            assert outcomes[1] >= 400, outcomes
