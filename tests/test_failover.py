"""A node dies mid-session: both clients carry on through another node."""

from __future__ import annotations

import asyncio
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
                await customer.say("before the crash")
                await alice.expect(event(ev.CHAT_MESSAGE, body="before the crash"))

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
