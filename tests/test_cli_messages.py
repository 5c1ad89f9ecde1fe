"""What the terminal clients say to a person: sentences, and confirmations."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest

from clientkit import Client, TerminalClient, of_type
from livekit import open_session
from serverkit import LiveServer
from supportbox.clients.console import Console
from supportbox.clients.customer import Consent, Customer, Ticket

pytestmark = pytest.mark.timeout(180)


def test_the_rep_reads_sentences_and_is_told_the_key_was_set(
    server: LiveServer, tmp_path: Any
) -> None:
    async def scenario() -> bytes:
        rep = await TerminalClient.start(
            "rep", "--server", server.url, "--username", "alice"
        )
        customer: Client | None = None
        try:
            await rep.expect(b"logged in as")
            rep.type(b"/accept\r")
            said = await rep.expect(b"no session is waiting in your queues")
            opened = open_session(server)
            customer = await Client.start(
                "customer",
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
            await customer.expect(of_type("welcome"))
            rep.type(f"/accept {opened.lsid}\r".encode())
            await rep.expect(b"(current)")
            rep.type(b"/key INC1\r")
            said += await rep.expect(b"* external key set to 'INC1'")
            rep.type(b"/quit\r")
            await asyncio.wait_for(rep.process.wait(), 60)
            said += bytes(rep.output)
        finally:
            if customer is not None:
                await customer.stop()
            await rep.stop()
        return said

    said = asyncio.run(scenario())

    assert b"! no session is waiting in your queues\r\n" in said
    assert b"(session_state)" not in said


def test_the_customer_is_told_in_words_when_the_reps_shell_is_gone() -> None:
    async def scenario() -> str:
        out = io.StringIO()
        customer = Customer(
            Ticket("http://127.0.0.1:9", "s1", "t"),
            Console(False, out),
            Consent(),
            lines=asyncio.Queue(),
            answers=None,
        )
        # What the server answers to shell output on a channel it closed.
        for _ in range(3):
            gone = {"type": "error", "code": "not_found", "message": "no channel 17"}
            await customer.on_frame(gone)
        return out.getvalue()

    said = asyncio.run(scenario())

    assert said.splitlines() == ["* the representative's shell or file transfer closed"]
