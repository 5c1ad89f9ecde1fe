"""``supportbox rep`` on a real pseudo-terminal: a remote shell in raw mode."""

from __future__ import annotations

import asyncio
import termios
from typing import Any

import pytest

from clientkit import Client, TerminalClient, of_type
from livekit import open_session
from serverkit import LiveServer

pytestmark = pytest.mark.timeout(180)


def test_the_rep_terminal_is_raw_resizes_passes_ctrl_c_and_is_restored(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    opened = open_session(server)

    async def scenario() -> tuple[list[Any], list[Any], int | None]:
        customer = await Client.start(
            "customer",
            "customer",
            "--server",
            server.url,
            "--lsid",
            opened.lsid,
            "--token",
            opened.join_token,
            "--allow",
            "shell",
            "--files-dir",
            str(tmp_path),
        )
        rep = await TerminalClient.start(
            "rep", "--server", server.url, "--username", "alice", width=100, height=30
        )
        try:
            await customer.expect(of_type("welcome"))
            await rep.expect(b"logged in as")
            before = rep.attributes()
            rep.type(f"/accept {opened.lsid}\r".encode())
            await rep.expect(b"(current)")
            rep.type(b"/shell\r")
            await rep.expect(b"Ctrl-] leaves it")
            raw = rep.attributes()

            # The size of the rep's window when the shell opened, then after
            # the window is resized.
            rep.type(b"stty size\r")
            await rep.expect(b"30 100")
            # A remote command that reports the size when it changes (the
            # trap runs on the SIGWINCH the remote terminal gets).
            rep.type(
                b'sh -c \'trap "stty size; kill $!; exit" WINCH;'
                b" sleep 60 & echo ready-$((1+1)); wait'\r"
            )
            await rep.expect(b"ready-2")
            rep.resize(120, 40)
            await rep.expect(b"40 120")

            # Ctrl-C interrupts the remote command, not the client.
            # "started-2" is printed once the command is the terminal's
            # foreground job (a shell sets that up before running it).
            rep.type(b"sh -c 'echo started-$((1+1)); sleep 60'\r")
            await rep.expect(b"started-2")
            rep.type(b"\x03")
            rep.type(b"echo after-$((2+3))\r")
            await rep.expect(b"after-5", timeout=30)

            rep.type(b"\x1d")
            await rep.expect(b"you left shell")
            after = rep.attributes()
            rep.type(b"/quit\r")
            code = await asyncio.wait_for(rep.process.wait(), 60)
        finally:
            await customer.stop()
            await rep.stop()
        return [before, after], raw, code

    (before, after), raw, code = asyncio.run(scenario())

    assert raw != before  # raw mode while the shell had the terminal
    assert raw[3] & (termios.ICANON | termios.ECHO | termios.ISIG) == 0
    assert after == before  # restored exactly
    assert code == 0


def test_an_interactive_customer_is_asked_and_its_answer_decides(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("SHELL", "/bin/sh")
    opened = open_session(server)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
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

            await rep.say("/shell")
            await customer.expect(b"open a command shell. Allow it? [y/n]")
            customer.type(b"n\r")
            refused = await rep.expect(of_type("shell_closed"))
            await rep.say("/shell")
            await customer.expect(b"open a command shell. Allow it? [y/n]")
            customer.type(b"y\r")
            opened_frame = await rep.expect(of_type("shell_opened"))
        finally:
            await customer.stop()
            await rep.stop()
        return refused, opened_frame

    refused, opened_frame = asyncio.run(scenario())

    assert refused["reason"] == "refused by the customer"
    assert opened_frame["instance"] == 0
