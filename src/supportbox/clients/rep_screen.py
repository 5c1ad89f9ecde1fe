"""The representative's view of a customer's screen (``/screen``).

The client draws every part into a framebuffer and acknowledges each
completed update, which lets the customer send the next one.
``/screenshot FILE.png`` saves what was last drawn (and the server stores
``Screenshot Captured``); ``/control`` asks for control, ``/release``
gives it back; ``/screen stop`` ends the sharing. ``/screen watch`` shows
a screen another representative of the session is viewing.

In ``--json`` mode each completed update is a ``screen_update`` line,
``{"type": "screenshot", "path": P}`` saves a screenshot, and the
protocol's ``screen_input`` is sent as it is.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from supportbox.clients.console import Console
from supportbox.clients.link import Link
from supportbox.errors import InvalidInput
from supportbox.screen.codec import Framebuffer


class ScreenViewer:
    link: Link
    console: Console

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.screens: dict[int, Framebuffer] = {}
        self.control: set[int] = set()

    def session(self) -> str | None:
        raise NotImplementedError

    @property
    def viewed(self) -> int | None:
        """The screen the commands act on: the last one opened."""
        return max(self.screens) if self.screens else None

    async def screen_command(self, rest: str) -> None:
        """``/screen``, ``/screen watch``, ``/screen stop``."""
        if rest == "watch":
            lsid = self.session()
            if lsid is not None:
                await self.link.command("screen_watch", lsid=lsid)
            return
        if rest == "stop":
            channel = self._viewed()
            if channel is not None:
                await self.link.command("screen_close", channel=channel)
            return
        lsid = self.session()
        if lsid is not None:
            await self.link.command("screen_open", lsid=lsid)
            self.console.say("* asking the customer to share the screen ...")

    async def control_command(self, release: bool = False) -> None:
        channel = self._viewed()
        if channel is None:
            return
        if release:
            await self.link.command("control_revoke", channel=channel)
        else:
            await self.link.command("control_request", channel=channel)
            self.console.say("* asking the customer for control ...")

    def _viewed(self) -> int | None:
        if self.viewed is None:
            self.console.say("! no screen is shared; /screen asks for one")
        return self.viewed

    async def screen_frame(self, frame: dict[str, Any]) -> None:
        kind, channel = frame.get("type"), frame.get("channel")
        if kind == "screen_opened":
            self.screens[int(frame["channel"])] = Framebuffer()
            self.console.say(
                f"* the customer shares the screen ({frame['width']}x"
                f"{frame['height']}); /screenshot FILE.png, /control, /screen stop"
            )
        elif kind == "screen_closed" and isinstance(channel, int):
            self.screens.pop(channel, None)
            self.control.discard(channel)
            self.console.say(f"* screen sharing ended: {frame.get('reason', '')}")
        elif kind == "control_granted" and isinstance(channel, int):
            self.control.add(channel)
            self.console.say("* you control the customer's screen")
        elif kind in ("control_refused", "control_revoked"):
            self.control.discard(int(frame["channel"]))
            self.console.say(f"* no control: {frame.get('reason', '')}")

    async def screen_data(self, number: int, data: bytes | memoryview) -> bool:
        """A part of a shared screen; ``False`` when ``number`` is no screen."""
        framebuffer = self.screens.get(number)
        if framebuffer is None:
            return False
        if not await asyncio.to_thread(framebuffer.apply, bytes(data)):
            return True
        updates = framebuffer.updates
        await self.link.post("screen_ack", channel=number, update=updates)
        if self.console.as_json:
            width, height = framebuffer.size
            self.console.frame(
                {
                    "type": "screen_update",
                    "channel": number,
                    "update": updates,
                    "width": width,
                    "height": height,
                }
            )
        return True

    def _screen_failed(self, message: str) -> None:
        if self.console.as_json:
            self.console.frame({"type": "error", "code": "local", "message": message})
        else:
            self.console.say(f"! {message}")

    async def screenshot(self, path: str) -> None:
        """Save the current picture as PNG and have the server note it."""
        channel = self._viewed()
        if channel is None:
            return
        framebuffer = self.screens[channel]
        target = Path(path).expanduser()
        png = framebuffer.png() if framebuffer.ready else b""
        try:
            if not png:
                raise InvalidInput("no picture of the screen has arrived yet")
            await asyncio.to_thread(target.write_bytes, png)
        except (OSError, InvalidInput) as exc:
            self._screen_failed(f"cannot save the screenshot: {exc}")
            return
        await self.link.command("screenshot", channel=channel, filename=target.name)
        width, height = framebuffer.size
        if self.console.as_json:
            self.console.frame(
                {
                    "type": "screenshot_saved",
                    "channel": channel,
                    "path": str(target),
                    "width": width,
                    "height": height,
                    "sha256": hashlib.sha256(png).hexdigest(),
                }
            )
        else:
            self.console.say(f"* saved {target} ({width}x{height})")
