"""A real X server shared through the real server: pictures, control, consent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PIL import Image

from livekit import open_session, stored_events
from screenkit import WIDTH, XWindow, expected_picture, x_window, xvfb
from serverkit import LiveServer
from streamkit import Side, customer, representative
from supportbox.screen.agent import ScreenAgent
from supportbox.screen.codec import Framebuffer
from supportbox.streams import frames

__all__ = ["x_window", "xvfb"]


class Viewer:
    """The representative's side of a screen: draws parts, acknowledges."""

    def __init__(self, rep: Side, channel: int, ack: bool = True) -> None:
        self.rep, self.channel, self.ack = rep, channel, ack
        self.framebuffer = Framebuffer()

    async def until(self, picture: Image.Image, timeout: float = 30) -> int:
        """Draw updates until the screen shows ``picture``; how many it took."""

        async def draw() -> int:
            seen = 0
            while True:
                if await self.next_update():
                    seen += 1
                    if self.framebuffer.image().tobytes() == picture.tobytes():
                        return seen

        return await asyncio.wait_for(draw(), timeout)

    async def next_update(self) -> bool:
        number, _chunk, data = frames.decode(await self.rep.data.get())
        if number != self.channel or not self.framebuffer.apply(data):
            return False
        if self.ack:
            await self.rep.send(
                "screen_ack", channel=number, update=self.framebuffer.updates
            )
        return True


async def sharing(
    server: LiveServer, lsid: str, display: str, allow: tuple[str, ...]
) -> tuple[Side, Side, int]:
    cust = await customer(server, _opened(server, lsid), allow=())
    cust.screen = ScreenAgent(
        cust.send_frame, cust.ws.send, allow=allow, display=display
    )
    rep = await representative(server)
    await rep.send("accept", lsid=lsid, id="a")
    await rep.expect("ok", re="a")
    await rep.send("screen_open", lsid=lsid, id="s")
    channel: int = (await rep.expect("ok", re="s"))["channel"]
    return cust, rep, channel


_OPENED: dict[str, Any] = {}


def _opened(server: LiveServer, lsid: str) -> Any:
    return _OPENED[lsid]


def new_session(server: LiveServer) -> str:
    opened = open_session(server)
    _OPENED[opened.lsid] = opened
    return opened.lsid


def test_the_rep_sees_the_picture_and_controls_the_screen_until_revoked(
    server: LiveServer, x_window: XWindow
) -> None:
    lsid = new_session(server)
    display = x_window.display.get_display_name()

    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await sharing(server, lsid, display, ("screen", "control"))
        opened = await rep.expect("screen_opened", channel=channel)
        viewer = Viewer(rep, channel)
        await viewer.until(expected_picture())

        # a change reaches the rep as an update of only what changed
        x_window.repaint([((0, 0, 64, 64), (255, 255, 255))])
        await viewer.until(expected_picture([((0, 0, 64, 64), (255, 255, 255))]))

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
            "early": early,
            "pointer": pointer_after_click,
            "revoked": revoked,
            "late": late,
            "shot": shot,
        }

    got = asyncio.run(scenario())

    assert (got["opened"]["width"], got["opened"]["height"]) == (WIDTH, 240)
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
    lsid = new_session(server)

    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await sharing(server, lsid, xvfb, allow)
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


def test_a_rep_that_does_not_acknowledge_gets_no_more_than_the_window(
    server: LiveServer, x_window: XWindow
) -> None:
    lsid = new_session(server)
    display = x_window.display.get_display_name()
    colours = [(i * 40, 255 - i * 40, 90) for i in range(6)]

    async def scenario() -> tuple[int, int]:
        cust, rep, channel = await sharing(server, lsid, display, ("screen",))
        await rep.expect("screen_opened", channel=channel)
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
        # Nothing may arrive while two updates wait for their acknowledgement.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(viewer.next_update(), 1.0)
        await rep.send("screen_ack", channel=channel, update=held)
        await viewer.until(expected_picture(shown))
        await cust.close()
        await rep.close()
        return held, viewer.framebuffer.updates

    held, after = asyncio.run(scenario())

    assert held == 3
    assert after == held + 1
