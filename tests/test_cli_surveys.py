"""Exit surveys in the interactive clients never take commands as answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from clientkit import Client, TerminalClient, of_type
from livekit import open_session
from serverkit import LiveServer
from supportbox.storage.models import SurveyResponse

pytestmark = pytest.mark.timeout(180)


def rep_surveys(server: LiveServer) -> list[dict[str, Any]]:
    with server.runtime.db() as db:
        return [
            dict(r.answers)
            for r in db.scalars(select(SurveyResponse))
            if r.survey == "rep"
        ]


def test_a_session_ending_in_the_background_does_not_take_the_reps_commands(
    server: LiveServer, tmp_path: Any
) -> None:
    first, second = open_session(server), open_session(server)

    async def scenario() -> tuple[bytes, list[dict[str, Any]]]:
        customers = [
            await Client.start(
                name,
                "customer",
                "--server",
                server.url,
                "--lsid",
                opened.lsid,
                "--token",
                opened.join_token,
                "--answer",
                "rating=5",
                "--files-dir",
                str(tmp_path),
            )
            for name, opened in (("one", first), ("two", second))
        ]
        rep = await TerminalClient.start(
            "rep", "--server", server.url, "--username", "alice"
        )
        try:
            await rep.expect(b"logged in as")
            for opened in (first, second):
                rep.type(f"/accept {opened.lsid}\r".encode())
                await rep.expect(f"in session {opened.lsid}".encode())
            # The second customer leaves: that session ends in the background.
            await customers[1].send("leave")
            await rep.expect(f"session {second.lsid} ended: type /survey".encode())
            rep.type(b"/sessions\r")
            await rep.expect(f"sessions: {first.lsid}".encode())
            rep.type(b"/note still working\r")
            rep.type(b"/survey\r")
            await rep.expect(b"Was the problem solved? [yes/no]: ")
            rep.type(b"/sessions\r")  # a command, not an answer
            await rep.expect(f"sessions: {first.lsid}".encode())
            await rep.expect(b"the exit survey is still open")
            rep.type(b"maybe\r")
            await rep.expect(b"please answer one of: yes, no")
            rep.type(b"YES\r")
            await rep.expect(b"Comments")
            rep.type(b"printer fixed\r")
            await rep.expect(b"exit survey saved")
            stored = rep_surveys(server)
            rep.type(b"/quit\r")
            await asyncio.wait_for(rep.process.wait(), 60)
        finally:
            for client in customers:
                await client.stop()
            await rep.stop()
        return bytes(rep.output), stored

    printed, stored = asyncio.run(scenario())

    assert stored == [{"resolved": "yes", "comments": "printer fixed"}]
    assert b"Traceback" not in printed


def test_the_customer_survey_takes_only_valid_answers_and_no_commands(
    server: LiveServer, tmp_path: Any
) -> None:
    opened = open_session(server)

    async def scenario() -> tuple[int | None, list[dict[str, Any]]]:
        customer = await TerminalClient.start(
            "customer",
            "--server",
            server.url,
            "--lsid",
            opened.lsid,
            "--token",
            opened.join_token,
            "--files-dir",
            str(tmp_path),
        )
        rep = await Client.start(
            "alice", "rep", "--server", server.url, "--username", "alice"
        )
        try:
            await customer.expect(b"connected")
            await rep.expect(of_type("welcome"))
            await rep.send("accept", lsid=opened.lsid)
            await rep.expect(of_type("ok", lsid=opened.lsid))
            await rep.send("end")
            await customer.expect(b"How would you rate this session? [1/2/3/4/5]: ")
            customer.type(b"/revoke\r")
            await customer.expect(b"closed 0 shell(s)")
            await customer.expect(b"the exit survey is still open")
            customer.type(b"great\r")
            await customer.expect(b"please answer one of: 1, 2, 3, 4, 5")
            customer.type(b"4\r")
            await customer.expect(b"Comments")
            customer.type(b"ok\r")
            code = await asyncio.wait_for(customer.process.wait(), 60)
        finally:
            await customer.stop()
            await rep.stop()
        with server.runtime.db() as db:
            stored = [
                dict(r.answers)
                for r in db.scalars(select(SurveyResponse))
                if r.survey == "customer"
            ]
        return code, stored

    code, stored = asyncio.run(scenario())

    assert code == 0
    assert stored == [{"rating": "4", "comments": "ok"}]
