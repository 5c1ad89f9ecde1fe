"""The customer's screen agent on a real X server, driven frame by frame."""

from __future__ import annotations

import asyncio
from typing import Any

from screenkit import XWindow, expected_picture, x_window, xvfb
from supportbox.screen.agent import ScreenAgent
from supportbox.screen.codec import Framebuffer, decode_part
from supportbox.streams import frames

__all__ = ["x_window", "xvfb"]


class Wire:
    """What an agent sends, as the server would receive it."""

    def __init__(self) -> None:
        self.json: list[dict[str, Any]] = []
        self.pictures: dict[int, Framebuffer] = {}
        self.changed = asyncio.Event()

    async def send_json(self, frame: dict[str, Any]) -> None:
        self.json.append(frame)
        self.changed.set()

    async def send_bytes(self, frame: bytes) -> None:
        number, _chunk, data = frames.decode(frame)
        self.pictures.setdefault(number, Framebuffer()).apply(decode_part(bytes(data)))
        self.changed.set()

    async def until(self, condition: Any, timeout: float = 30) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)

    def shows(self, number: int, picture: Any) -> bool:
        framebuffer = self.pictures.get(number)
        return bool(
            framebuffer
            and framebuffer.ready
            and framebuffer.image().tobytes() == picture.tobytes()
        )


def test_each_shared_screen_gets_every_change(x_window: XWindow) -> None:
    display = x_window.display.get_display_name()

    async def scenario() -> None:
        wire = Wire()
        agent = ScreenAgent(
            wire.send_json, wire.send_bytes, allow=("screen",), display=display
        )
        try:
            for number in (1, 2):
                await agent.handle({"type": "screen_request", "channel": number})
            await wire.until(lambda: wire.shows(1, expected_picture()))
            await wire.until(lambda: wire.shows(2, expected_picture()))
            white = [((0, 0, 64, 64), (255, 255, 255))]
            x_window.repaint(white)
            for number in (1, 2):
                await wire.until(
                    lambda n=number: wire.shows(n, expected_picture(white))
                )
        finally:
            await agent.close()

    asyncio.run(scenario())


def test_control_is_not_granted_for_a_screen_closed_while_asking(
    x_window: XWindow,
) -> None:
    display = x_window.display.get_display_name()

    async def scenario() -> tuple[list[dict[str, Any]], bool]:
        wire = Wire()
        asked, answer = asyncio.Event(), asyncio.Event()

        async def ask(_question: str) -> bool:
            asked.set()
            await answer.wait()
            return True

        agent = ScreenAgent(
            wire.send_json,
            wire.send_bytes,
            allow=("screen",),
            ask=ask,
            display=display,
        )
        try:
            await agent.handle({"type": "screen_request", "channel": 1})
            await wire.until(lambda: wire.shows(1, expected_picture()))
            await agent.handle({"type": "control_request", "channel": 1})
            await asyncio.wait_for(asked.wait(), 30)
            await agent.handle({"type": "screen_closed", "channel": 1})
            answer.set()
            await asyncio.wait_for(asyncio.gather(*agent._tasks), 30)
            return list(wire.json), agent.controlled
        finally:
            await agent.close()

    sent, controlled = asyncio.run(scenario())

    assert [f["type"] for f in sent] == ["screen_accept"]
    assert not controlled
