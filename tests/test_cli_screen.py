"""The real ``supportbox customer`` shares a real X screen with ``supportbox rep``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from clientkit import Client, TerminalClient, of_type
from livekit import open_session
from screenkit import XWindow, expected_picture, x_window, xvfb
from serverkit import LiveServer

__all__ = ["x_window", "xvfb"]

pytestmark = pytest.mark.timeout(180)


async def start_pair(server: LiveServer, *customer_args: str) -> tuple[Client, Client]:
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
        *customer_args,
    )
    rep = await Client.start(
        "alice", "rep", "--server", server.url, "--username", "alice"
    )
    await customer.expect(of_type("welcome"))
    await rep.expect(of_type("welcome"))
    await rep.send("accept", lsid=opened.lsid)
    await rep.expect(of_type("ok", lsid=opened.lsid))
    return customer, rep


def test_the_rep_client_saves_a_screenshot_and_drives_the_pointer_until_revoked(
    server: LiveServer,
    x_window: XWindow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", x_window.display.get_display_name())
    shot = tmp_path / "shot.png"

    async def scenario() -> dict[str, Any]:
        customer, rep = await start_pair(server, "--allow", "screen,control")
        try:
            await rep.send("screen_open")
            channel = (await rep.expect(_channel))["channel"]
            await rep.expect(of_type("screen_opened", channel=channel))
            await rep.expect(of_type("screen_update", channel=channel))
            await rep.send("screenshot", path=str(shot))
            saved = await rep.expect(of_type("screenshot_saved"))

            await rep.send("control_request", channel=channel)
            await rep.expect(of_type("control_granted", channel=channel))
            await customer.expect(of_type("control", state="active"))
            move = {"event": "move", "x": 222, "y": 111}
            await rep.send("screen_input", channel=channel, events=[move])
            await asyncio.to_thread(x_window.wait, lambda: x_window.moved == (222, 111))
            pointer = x_window.pointer()

            await customer.send("revoke")
            await customer.expect(of_type("control", state="ended"))
            revoked = await customer.expect(of_type("revoked"))
            await rep.expect(of_type("control_revoked", channel=channel))
            await rep.send("screen_input", channel=channel, events=[move])
            refused = await rep.expect(of_type("error", code="session_state"))

            await customer.send("unshare")
            closed = await rep.expect(of_type("screen_closed", channel=channel))
            return {
                "saved": saved,
                "pointer": pointer,
                "revoked": revoked,
                "refused": refused,
                **closed,
            }
        finally:
            await customer.stop()
            await rep.stop()

    got = asyncio.run(scenario())

    assert got["saved"]["path"] == str(shot)
    picture = Image.open(shot).convert("RGB")
    assert picture.tobytes() == expected_picture().tobytes()
    assert got["pointer"] == (222, 111)
    assert got["revoked"]["control"] == 1
    assert got["refused"]["message"] == "remote control is not granted"
    assert got["reason"] == "stopped by the customer"


def _channel(line: dict[str, Any]) -> bool:
    return line.get("type") == "ok" and "channel" in line


def test_a_customer_at_a_terminal_is_asked_twice_and_sees_when_control_is_active(
    server: LiveServer, x_window: XWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", x_window.display.get_display_name())
    opened = open_session(server)

    async def scenario() -> dict[str, Any]:
        customer = await TerminalClient.start(
            "customer",
            *("--server", server.url, "--lsid", opened.lsid),
            *("--token", opened.join_token),
        )
        rep = await Client.start(
            "alice", "rep", "--server", server.url, "--username", "alice"
        )
        try:
            await customer.expect(b"connected")
            await rep.expect(of_type("welcome"))
            await rep.send("accept", lsid=opened.lsid)
            await rep.expect(of_type("ok", lsid=opened.lsid))

            await rep.send("screen_open")
            channel = (await rep.expect(_channel))["channel"]
            await customer.expect(b"asks to see your screen. Allow it? [y/n]")
            customer.type(b"y\n")
            await rep.expect(of_type("screen_opened", channel=channel))

            await rep.send("control_request", channel=channel)
            await customer.expect(b"control your mouse and keyboard. Allow it?")
            customer.type(b"y\n")
            await rep.expect(of_type("control_granted", channel=channel))
            active = await customer.expect(b"(/revoke takes it back)")

            customer.type(b"/revoke\n")
            ended = await customer.expect(b"remote control has ended")
            revoked = await rep.expect(of_type("control_revoked", channel=channel))

            await rep.send("control_request", channel=channel)
            await customer.expect(b"control your mouse and keyboard. Allow it?")
            customer.type(b"n\n")
            refused = await rep.expect(of_type("control_refused", channel=channel))
            return {
                "active": active,
                "ended": ended,
                "revoked": revoked,
                "refused": refused,
            }
        finally:
            await customer.stop()
            await rep.stop()

    got = asyncio.run(scenario())

    assert b"*** REMOTE CONTROL IS ACTIVE" in got["active"]
    assert got["revoked"]["reason"] == "revoked by the customer"
    assert got["refused"]["reason"] == "refused by the customer"
