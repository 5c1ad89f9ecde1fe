"""The customer's side of screen sharing and remote control.

Sharing and control are two consents: each is allowed in advance
(``screen``, ``control``) or asked of the customer, and refused when
there is no way to ask. While sharing, the screen is captured, cut into
tiles and only changed tiles are sent; a new update waits until the
representative has acknowledged all but ``window`` of the sent ones, so a
slow link lowers the frame rate instead of building a queue. While
control is granted, ``notify`` shows a line saying so, and input from the
representative is replayed through XTest; :meth:`ScreenAgent.revoke`
ends control at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from supportbox.logs import log
from supportbox.screen.capture import Capture, Differ
from supportbox.screen.codec import encode_update
from supportbox.screen.inject import Injector
from supportbox.streams import frames

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
SendBytes = Callable[[bytes], Awaitable[None]]
Ask = Callable[[str], Awaitable[bool]]
Notify = Callable[[str], None]

SCREEN = "screen"
CONTROL = "control"

CONTROL_ON = "*** REMOTE CONTROL IS ACTIVE: the representative can use your mouse and keyboard (/revoke takes it back)"  # noqa: E501
CONTROL_OFF = "* remote control has ended"

T = TypeVar("T")


@dataclass
class Share:
    """One shared screen: the capture loop and its acknowledgements."""

    number: int
    sent: int = 0
    acked: int = 0
    control: bool = False
    progress: asyncio.Event = field(default_factory=asyncio.Event)
    #: What this share sent last; each share starts with a key update.
    differ: Differ = field(default_factory=Differ)
    task: asyncio.Task[None] | None = None


class ScreenAgent:
    def __init__(
        self,
        send_json: SendJson,
        send_bytes: SendBytes,
        *,
        allow: Collection[str] = (),
        ask: Ask | None = None,
        notify: Notify | None = None,
        display: str | None = None,
        max_fps: float = 15.0,
        window: int = 2,
    ) -> None:
        self._send_json = send_json
        self._send_bytes = send_bytes
        self.allow = set(allow)
        self._ask = ask
        self._notify = notify or (lambda _line: None)
        self.display = display
        self.max_fps = max_fps
        self.window = window
        self.shares: dict[int, Share] = {}
        # X connections are used from one thread each.
        self._capture_thread = ThreadPoolExecutor(1, "screen-capture")
        self._input_thread = ThreadPoolExecutor(1, "screen-input")
        self._capture: Capture | None = None
        self._injector: Injector | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    @classmethod
    def handles(cls, kind: str) -> bool:
        return kind in cls._handlers

    async def handle(self, frame: dict[str, Any]) -> bool:
        """Act on ``frame`` if it is ours; ``False`` for anything else."""
        handler = self._handlers.get(str(frame.get("type")))
        if handler is None:
            return False
        if frame.get("type") in ("screen_request", "control_request"):
            # These may wait for the customer; frames after them may not.
            task = asyncio.ensure_future(handler(self, frame))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            await handler(self, frame)
        return True

    async def _permitted(self, what: str, question: str) -> bool:
        if what in self.allow:
            return True
        if self._ask is None:
            return False
        return await self._ask(question)

    def _in_capture(self, work: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._capture_thread, work)

    def _in_input(self, work: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._input_thread, work)

    # sharing

    async def _screen_request(self, frame: dict[str, Any]) -> None:
        number = int(frame["channel"])
        question = "The representative asks to see your screen. Allow it?"
        if not await self._permitted(SCREEN, question):
            await self._send_json(
                {"type": "screen_refuse", "channel": number, "reason": _refused(self)}
            )
            return
        try:
            width, height = await self._in_capture(self._open_capture)
        except Exception as exc:
            log.warning("cannot capture the screen: %s", exc)
            reason = "the screen cannot be captured here"
            await self._send_json(
                {"type": "screen_refuse", "channel": number, "reason": reason}
            )
            return
        share = self.shares[number] = Share(number)
        await self._send_json(
            {
                "type": "screen_accept",
                "channel": number,
                "width": width,
                "height": height,
            }
        )
        share.task = asyncio.ensure_future(self._pump(share))

    def _open_capture(self) -> tuple[int, int]:
        if self._capture is None:
            self._capture = Capture(self.display)
        size: tuple[int, int] = self._capture.grab().size
        return size

    async def _pump(self, share: Share) -> None:
        loop = asyncio.get_running_loop()
        chunk = 0
        while share.number in self.shares:
            started = loop.time()
            while share.sent - share.acked >= self.window:
                share.progress.clear()
                await share.progress.wait()
            try:
                parts = await self._in_capture(lambda: self._next_update(share))
            except Exception as exc:  # the display went away, ...
                log.warning("screen capture failed: %s", exc)
                self.shares.pop(share.number, None)
                await self._end_control(share)
                reason = "the screen cannot be captured any more"
                await self._send_json(
                    {"type": "screen_close", "channel": share.number, "reason": reason}
                )
                return
            for part in parts:
                await self._send_bytes(frames.encode(share.number, chunk, part))
                chunk += 1
            if parts:
                share.sent += 1
            await asyncio.sleep(max(0.0, started + 1 / self.max_fps - loop.time()))

    def _next_update(self, share: Share) -> list[bytes]:
        """The parts of ``share``'s next update; none when nothing changed."""
        assert self._capture is not None
        image = self._capture.grab()
        tiles, key = share.differ.changes(image)
        if not tiles:
            return []
        return encode_update(tiles, image.width, image.height, key)

    async def _screen_ack(self, frame: dict[str, Any]) -> None:
        share = self.shares.get(int(frame["channel"]))
        if share is not None:
            share.acked = max(share.acked, int(frame["update"]))
            share.progress.set()

    async def _screen_closed(self, frame: dict[str, Any]) -> None:
        await self._stop(int(frame["channel"]))

    async def stop(self, reason: str = "stopped by the customer") -> int:
        """Stop sharing every screen now; returns how many were shared."""
        numbers = list(self.shares)
        for number in numbers:
            await self._send_json(
                {"type": "screen_close", "channel": number, "reason": reason}
            )
            await self._stop(number)
        return len(numbers)

    async def _stop(self, number: int) -> None:
        share = self.shares.pop(number, None)
        if share is None:
            return
        await self._end_control(share)
        if share.task is not None:
            share.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await share.task

    # control

    async def _control_request(self, frame: dict[str, Any]) -> None:
        share = self.shares.get(int(frame["channel"]))
        if share is None:
            return
        question = (
            "The representative asks to control your mouse and keyboard. Allow it?"
        )
        if not await self._permitted(CONTROL, question):
            if self.shares.get(share.number) is not share:
                return  # the screen closed while the customer was asked
            await self._send_json(
                {
                    "type": "control_refuse",
                    "channel": share.number,
                    "reason": _refused(self),
                }
            )
            return
        try:
            await self._in_input(self._open_injector)
        except Exception as exc:
            log.warning("cannot replay input: %s", exc)
            reason = "input cannot be replayed on this screen"
            await self._send_json(
                {"type": "control_refuse", "channel": share.number, "reason": reason}
            )
            return
        if self.shares.get(share.number) is not share:
            return  # the screen closed while the customer was asked
        share.control = True
        self._notify(CONTROL_ON)
        await self._send_json({"type": "control_grant", "channel": share.number})

    def _open_injector(self) -> None:
        if self._injector is None:
            self._injector = Injector(self.display)

    async def _screen_input(self, frame: dict[str, Any]) -> None:
        share = self.shares.get(int(frame["channel"]))
        # The server forwards input only under control; checked here too.
        if share is None or not share.control or self._injector is None:
            return
        injector, events = self._injector, list(frame["events"])
        await self._in_input(lambda: injector.apply(events))

    async def _control_revoked(self, frame: dict[str, Any]) -> None:
        share = self.shares.get(int(frame["channel"]))
        if share is not None:
            await self._end_control(share)

    async def revoke(self, reason: str = "revoked by the customer") -> int:
        """End remote control of every screen now; returns how many had it."""
        count = 0
        for share in list(self.shares.values()):
            if share.control:
                count += 1
                await self._end_control(share)
                await self._send_json(
                    {
                        "type": "control_revoke",
                        "channel": share.number,
                        "reason": reason,
                    }
                )
        return count

    async def _end_control(self, share: Share) -> None:
        if not share.control:
            return
        share.control = False
        self._notify(CONTROL_OFF)
        if self._injector is not None:
            await self._in_input(self._injector.release)

    @property
    def controlled(self) -> bool:
        return any(share.control for share in self.shares.values())

    # housekeeping

    async def close(self) -> None:
        """Stop sharing and let go of the display (the connection is going)."""
        for task in list(self._tasks):
            task.cancel()
        for number in list(self.shares):
            await self._stop(number)
        if self._capture is not None:
            await self._in_capture(self._capture.close)
        if self._injector is not None:
            await self._in_input(self._injector.close)
        self._capture = self._injector = None
        self._capture_thread.shutdown(wait=False)
        self._input_thread.shutdown(wait=False)

    _handlers: ClassVar[
        dict[str, Callable[[ScreenAgent, dict[str, Any]], Awaitable[None]]]
    ] = {
        "screen_request": _screen_request,
        "screen_ack": _screen_ack,
        "screen_closed": _screen_closed,
        "control_request": _control_request,
        "screen_input": _screen_input,
        "control_revoked": _control_revoked,
    }


def _refused(agent: ScreenAgent) -> str:
    return "refused by the customer" if agent._ask else "not allowed by the customer"
