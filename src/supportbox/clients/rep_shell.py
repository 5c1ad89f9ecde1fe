"""The representative's remote shells (``/shell``; ``shell_input`` in ``--json``).

Interactively, an open shell takes over the terminal: raw mode (so Ctrl-C
and every other key reach the remote shell as bytes), the window size
sent when it opens and on every SIGWINCH, output written as it arrives,
other output held back until the shell is left. :data:`ESCAPE` (Ctrl-])
leaves the shell and closes it; the terminal is restored on every way
out (the shell closing, the escape, the connection failing, SIGTERM,
SIGHUP, interpreter exit).

In ``--json`` mode output becomes ``shell_output`` lines (``text`` decoded
as UTF-8, ``data`` the exact bytes in base64) and input comes as
``{"type": "shell_input", "channel": C, "text": "..."}`` (or ``"data"``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import signal
import sys
from typing import Any

from supportbox.clients.console import Console, Keyboard
from supportbox.clients.link import Link
from supportbox.clients.terminal import ESCAPE, ESCAPE_NAME, RawTerminal, window_size
from supportbox.errors import InvalidInput, LinkFailed
from supportbox.streams import frames

#: Keystrokes, a JSON command (resize, close) in order with them, or the end.
Typed = bytes | dict[str, Any] | None

_LEAVE_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Shells:
    link: Link
    console: Console
    keyboard: Keyboard
    lines: asyncio.Queue[str | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opening: int | None = None
        self.attached: int | None = None
        self.terminal = RawTerminal()
        self._typed: asyncio.Queue[Typed] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._chunks: dict[int, int] = {}
        self._decoders: dict[int, codecs.IncrementalDecoder] = {}

    def session(self) -> str | None:
        raise NotImplementedError

    async def open_shell(self) -> None:
        lsid = self.session()
        if lsid is None:
            return
        width, height = window_size()
        reply = await self.link.request(
            "shell_open", lsid=lsid, width=width, height=height
        )
        if reply.get("type") == "ok" and not self.console.as_json:
            self.opening = int(reply["channel"])
            self.console.say("* asking the customer to allow a shell ...")

    async def shell_frame(self, frame: dict[str, Any]) -> None:
        kind, channel = frame.get("type"), frame.get("channel")
        if kind == "shell_opened" and channel == self.opening:
            self.opening = None
            self.attach(int(frame["channel"]), int(frame["instance"]))
        elif kind == "shell_closed":
            if channel == self.opening:
                self.opening = None
            if channel == self.attached:
                self.detach()

    # the terminal

    def attach(self, channel: int, instance: int) -> None:
        self.console.say(
            f"* shell {channel} open (recorded as instance {instance}); "
            f"{ESCAPE_NAME} leaves it and closes it"
        )
        self.attached = channel
        self.console.hold()
        self.terminal.enter()
        self.keyboard.raw = self._keys
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGWINCH, self._resized)
        for signum in _LEAVE_SIGNALS:
            loop.add_signal_handler(signum, self._terminated)
        self._typed = asyncio.Queue()
        self._sender = loop.create_task(self._send_typed(channel, self._typed))
        self._resized()

    def detach(self) -> None:
        """Give the terminal back; safe to call when no shell has it."""
        if self.attached is None:
            return
        self.attached = None
        self.keyboard.raw = None
        if self.terminal.raw:
            sys.stdout.buffer.write(b"\r\n")
            sys.stdout.buffer.flush()
        self.terminal.restore()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGWINCH, *_LEAVE_SIGNALS):
            loop.remove_signal_handler(signum)
        self._typed.put_nowait(None)
        self.console.release()

    def _keys(self, data: bytes) -> None:
        cut = data.find(ESCAPE)
        if cut < 0:
            self._typed.put_nowait(data)
            return
        if cut:
            self._typed.put_nowait(data[:cut])
        self._typed.put_nowait(
            {"type": "shell_close", "reason": "closed by the representative"}
        )
        self.detach()

    def _resized(self) -> None:
        width, height = window_size()
        self._typed.put_nowait(
            {"type": "shell_resize", "width": width, "height": height}
        )

    def _terminated(self) -> None:
        self.detach()
        self.lines.put_nowait(None)  # ends the client like the end of input

    async def _send_typed(self, channel: int, typed: asyncio.Queue[Typed]) -> None:
        try:
            while (item := await typed.get()) is not None:
                if isinstance(item, dict):
                    fields = {k: v for k, v in item.items() if k != "type"}
                    await self.link.command(item["type"], channel=channel, **fields)
                else:
                    await self._send(channel, item)
        except LinkFailed:
            return  # the server closes the shell of a dropped connection

    async def _send(self, channel: int, data: bytes) -> None:
        index = self._chunks.get(channel, 0)
        self._chunks[channel] = index + 1
        await self.link.send_bytes(frames.encode(channel, index, data))

    # data

    def shell_data(self, channel: int, data: bytes) -> None:
        if self.console.as_json:
            decoder = self._decoders.setdefault(
                channel, codecs.getincrementaldecoder("utf-8")(errors="replace")
            )
            self.console.frame(
                {
                    "type": "shell_output",
                    "channel": channel,
                    "text": decoder.decode(data),
                    "data": base64.b64encode(data).decode(),
                }
            )
        elif channel == self.attached:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    async def shell_input(self, fields: dict[str, Any]) -> None:
        """``shell_input`` from a script: ``channel`` and ``text`` or ``data``."""
        try:
            channel = int(fields["channel"])
            if "data" in fields:
                data = base64.b64decode(str(fields["data"]), validate=True)
            else:
                data = str(fields["text"]).encode()
        except (KeyError, ValueError, TypeError, binascii.Error):
            error = InvalidInput("shell_input needs channel and text or base64 data")
            self.console.frame(
                {"type": "error", "code": "invalid", "message": str(error)}
            )
            return
        await self._send(channel, data)
