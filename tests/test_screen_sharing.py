"""A real X server shared through the real server: pictures, control, consent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import pytest

from livekit import stored_events
from screenkit import (
    WIDTH,
    Viewer,
    XWindow,
    expected_picture,
    new_session,
    sharing,
    x_window,
    xvfb,
)
from serverkit import LiveServer

__all__ = ["x_window", "xvfb"]


def test_the_rep_sees_the_picture_and_controls_the_screen_until_revoked(
    server: LiveServer, x_window: XWindow
) -> None:
    session = new_session(server)
    lsid = session.lsid
    display = x_window.display.get_display_name()

    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await sharing(
            server, session, display, ("screen", "control")
        )
        opened = await rep.expect("screen_opened", channel=channel)
        viewer = Viewer(rep, channel)
        await viewer.until(expected_picture())

        # a change reaches the rep as an update of only what changed
        x_window.repaint([((0, 0, 64, 64), (255, 255, 255))])
        await viewer.until(expected_picture([((0, 0, 64, 64), (255, 255, 255))]))
        change_tiles = viewer.tiles

        # no input before control is granted: the server refuses it
        move = {"event": "move", "x": 5, "y": 5}
        await rep.send("screen_input", channel=channel, events=[move], id="i0")
        early = await rep.expect("error", re="i0")

        await rep.send("control_request", channel=channel, id="c")
        await rep.expect("ok", re="c")
        await rep.expect("control_granted", channel=channel)
        assert cust.screen is not None and cust.screen.controlled

        click = [
            {"event": "move", "x": 100, "y": 80},
            {"event": "button_down", "button": 1},
            {"event": "button_up", "button": 1},
        ]
        await rep.send("screen_input", channel=channel, events=click, id="i1")
        await rep.expect("ok", re="i1")
        await asyncio.to_thread(x_window.wait, lambda: bool(x_window.clicks))
        pointer_after_click = x_window.pointer()
        keys = []
        for key in ("h", "i", "exclam"):
            keys += [{"event": "key_down", "key": key}, {"event": "key_up", "key": key}]
        await rep.send("screen_input", channel=channel, events=keys, id="i2")
        await rep.expect("ok", re="i2")
        await asyncio.to_thread(x_window.wait, lambda: x_window.typed == "hi!")

        # the customer takes control back: input is refused at once
        assert await cust.screen.revoke() == 1
        revoked = await rep.expect("control_revoked", channel=channel)
        await rep.send("screen_input", channel=channel, events=[move], id="i3")
        late = await rep.expect("error", re="i3")

        await rep.send("screenshot", channel=channel, filename="shot.png", id="p")
        shot = await rep.expect("ok", re="p")
        await rep.send("screen_close", channel=channel, id="x")
        await rep.expect("ok", re="x")
        await cust.close()
        await rep.close()
        return {
            "opened": opened,
            "change_tiles": change_tiles,
            "early": early,
            "pointer": pointer_after_click,
            "revoked": revoked,
            "late": late,
            "shot": shot,
        }

    got = asyncio.run(scenario())

    assert (got["opened"]["width"], got["opened"]["height"]) == (WIDTH, 240)
    # one 64x64 tile of the 5x4 the screen has
    assert got["change_tiles"] == 1
    assert got["early"]["code"] == "session_state"
    assert got["pointer"] == (100, 80)
    assert x_window.clicks[0] == (1, 100, 80)
    assert got["revoked"]["reason"] == "revoked by the customer"
    assert got["late"]["code"] == "session_state"
    assert x_window.pointer() == (100, 80)
    assert (got["shot"]["width"], got["shot"]["height"]) == (WIDTH, 240)
    kinds = [e.event_type for e in stored_events(server, lsid)]
    screen_events = [k for k in kinds if "Screen" in k or "Control" in k]
    assert screen_events == [
        "Screen Sharing Started",
        "Remote Control Granted",
        "Remote Control Revoked",
        "Screenshot Captured",
        "Screen Sharing Stopped",
    ]


@pytest.mark.parametrize(
    ("allow", "refused"), [((), "screen"), (("screen",), "control")]
)
def test_the_customer_refuses_what_was_not_allowed(
    server: LiveServer, xvfb: str, allow: tuple[str, ...], refused: str
) -> None:
    session = new_session(server)

    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await sharing(server, session, xvfb, allow)
        if refused == "screen":
            answer = await rep.expect("screen_closed", channel=channel)
        else:
            await rep.expect("screen_opened", channel=channel)
            await rep.send("control_request", channel=channel)
            answer = await rep.expect("control_refused", channel=channel)
            move = {"event": "move", "x": 1, "y": 1}
            await rep.send("screen_input", channel=channel, events=[move], id="i")
            answer["input"] = await rep.expect("error", re="i")
        await cust.close()
        await rep.close()
        return answer

    answer = asyncio.run(scenario())

    assert answer["reason"] == "not allowed by the customer"
    if refused == "control":
        assert answer["input"]["code"] == "session_state"


class Parking(asyncio.Event):
    """A share's ``progress`` that tells when the agent waits on it, and
    how many updates it had sent then."""

    def __init__(self, sent: Callable[[], int]) -> None:
        super().__init__()
        self._sent = sent
        self._parked: list[int] = []
        self._changed = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self._parked.append(self._sent())
        self._changed.set()
        return await super().wait()

    async def until(self, sent: int) -> None:
        """Until the agent has waited for an ack after ``sent`` updates."""
        while sent not in self._parked:
            self._changed.clear()
            await self._changed.wait()


def test_a_rep_that_does_not_acknowledge_gets_no_more_than_the_window(
    server: LiveServer, x_window: XWindow
) -> None:
    session = new_session(server)
    display = x_window.display.get_display_name()
    colours = [(i * 40, 255 - i * 40, 90) for i in range(6)]

    async def scenario() -> tuple[int, int, list[tuple[int, int]]]:
        cust, rep, channel = await sharing(server, session, display, ("screen",))
        agent = cust.screen
        assert agent is not None
        # (updates sent, updates acknowledged) as each part leaves the agent
        unacknowledged: list[tuple[int, int]] = []
        send = agent._send_bytes

        async def counted(frame: bytes) -> None:
            share = agent.shares[channel]
            unacknowledged.append((share.sent, share.acked))
            await send(frame)

        agent._send_bytes = counted
        await rep.expect("screen_opened", channel=channel)
        share = agent.shares[channel]
        share.progress = parking = Parking(lambda: share.sent)
        viewer = Viewer(rep, channel)
        await viewer.until(expected_picture())
        viewer.ack = False
        shown: list[Any] = []
        for colour in colours[:2]:
            shown.append(((0, 0, 64, 64), colour))
            x_window.repaint(shown[-1:])
            await viewer.until(expected_picture(shown))
        held = viewer.framebuffer.updates
        shown.append(((0, 0, 64, 64), colours[2]))
        x_window.repaint(shown[-1:])
        # The agent holds the change while two updates wait for their
        # acknowledgement; the ack releases it as exactly one more update.
        await asyncio.wait_for(parking.until(held), 30)
        assert rep.data.empty()
        await rep.send("screen_ack", channel=channel, update=held)
        await viewer.until(expected_picture(shown))
        await cust.close()
        await rep.close()
        return held, viewer.framebuffer.updates, unacknowledged

    held, after, unacknowledged = asyncio.run(scenario())

    assert held == 3
    assert after == held + 1
    # No part left the agent while the window (2) was full.
    assert unacknowledged and all(sent - acked < 2 for sent, acked in unacknowledged)
    assert unacknowledged[-1][0] == held
