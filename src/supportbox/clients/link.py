"""A live connection that outlives dropped sockets.

:class:`Link` sends ``hello``, and when the socket drops it reconnects
with the resume token of its last ``welcome`` and the last ``seq`` it saw
of each session, until the server's grace period has passed. It hands the
application every frame once: events already seen are dropped, and
commands not yet answered are resent with their ids (the server answers
a repeated id without doing the command again).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from supportbox.errors import LinkFailed, ResumeRefused

Hello = Callable[["Link"], dict[str, Any]]

#: Bytes the socket's write buffer holds before a send waits (high water).
WRITE_LIMIT = 4 * 1024 * 1024
#: Receives binary frames (shell and file data) as they arrive.
OnData = Callable[[bytes], Awaitable[None]]
#: Sees each JSON frame first, in order with the binary frames; ``True``
#: means it was handled and does not go to the inbox.
Tap = Callable[[dict[str, Any]], Awaitable[bool]]


def live_url(server: str) -> str:
    """``http(s)://host[:port]`` to the ``ws(s)://.../live`` endpoint."""
    base = server.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/live"
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://") + "/live"
    if base.startswith(("ws://", "wss://")):
        return base if base.endswith("/live") else base + "/live"
    raise LinkFailed(f"server {server!r} is not an http(s):// URL")


def live_urls(servers: str) -> list[str]:
    """The ``/live`` URLs of one server or of several, comma-separated.

    With several, a client that loses its connection tries the next one:
    nodes behind no load balancer share the work of failing over.
    """
    return [live_url(s.strip()) for s in servers.split(",") if s.strip()]


def first_server(servers: str) -> str:
    return servers.split(",")[0].strip()


class Link:
    def __init__(self, url: str | list[str], hello: Hello, grace: float = 60.0) -> None:
        self.urls = [url] if isinstance(url, str) else list(url)
        self._index = 0
        #: Whether a refused resume may be retried with a fresh hello: true
        #: for a representative, who can log in again with the password.
        self.relogin = False
        self.hello = hello
        self.grace = grace
        self.resume_token: str | None = None
        self.welcome: dict[str, Any] | None = None
        self.last_seq: dict[str, int] = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: dict[str, str] = {}
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.ws: ClientConnection | None = None
        self.on_data: OnData | None = None
        self.tap: Tap | None = None
        self.stopped = False
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)

    # commands

    async def command(self, kind: str, **fields: Any) -> str:
        """Send a command (now, or after the next reconnect); its id."""
        ident = f"{self._prefix}-{next(self._ids)}"
        text = json.dumps({"type": kind, "id": ident, **fields})
        self.outbox[ident] = text
        await self._send(text)
        return ident

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send a command and wait for its ``ok`` or ``error``."""
        ident = await self.command(kind, **fields)
        future = self.waiters[ident] = asyncio.get_running_loop().create_future()
        reply: dict[str, Any] = await future
        return reply

    async def post(self, kind: str, **fields: Any) -> None:
        """Send a message that has no answer (``screen_ack``); it is not
        resent after a reconnect."""
        await self._send(json.dumps({"type": kind, **fields}))

    async def send_bytes(self, frame: bytes) -> None:
        """Send a binary frame now; data is not resent after a reconnect
        (the server closes a dropped connection's channels)."""
        if self.ws is None:
            raise LinkFailed("the connection is down; the data was not sent")
        try:
            await self.ws.send(frame)
        except ConnectionClosed:
            raise LinkFailed("the connection dropped while sending") from None

    async def _send(self, text: str) -> None:
        if self.ws is None:
            return
        with contextlib.suppress(ConnectionClosed):  # resent after the reconnect
            await self.ws.send(text)

    async def close(self) -> None:
        """Say ``bye`` and stop; nothing is resumed after this."""
        self.stopped = True
        if self.ws is not None:
            await self._send(json.dumps({"type": "bye"}))
            await self.ws.close()

    @property
    def url(self) -> str:
        return self.urls[self._index]

    # the connection loop

    async def run(self) -> None:
        """Connect, and reconnect after drops, until closed.

        Raises :class:`LinkFailed` when the server refuses the hello or
        cannot be reached again within the grace period.
        """
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        attempt = 0
        while not self.stopped:
            try:
                await self._connect_once()
                deadline, attempt = None, 0
            except (OSError, ConnectionClosed, TimeoutError, InvalidHandshake) as exc:
                if self.welcome is None and len(self.urls) == 1:
                    raise LinkFailed(f"cannot reach {self.url}: {exc}") from None
                # Try the next server, if there are several.
                self._index = (self._index + 1) % len(self.urls)
            except InvalidURI:
                raise LinkFailed(f"{self.url} is not a WebSocket URL") from None
            finally:
                self.ws = None
            if self.stopped:
                break
            deadline = deadline or loop.time() + self.grace
            if loop.time() > deadline:
                raise LinkFailed("the connection could not be resumed in time")
            self.inbox.put_nowait({"type": "link", "state": "reconnecting"})
            await asyncio.sleep(min(0.1 * 2**attempt, 3.0))
            attempt += 1

    async def _connect_once(self) -> None:
        # Chat frames are small: per-message deflate would save little and
        # costs the server about 45 KiB per connection (docs/performance.md).
        # File data goes in 1 MiB frames: a write buffer of a few frames
        # keeps the socket busy instead of waiting for each to drain.
        async with connect(
            self.url,
            open_timeout=10,
            max_size=2**22,
            compression=None,
            write_limit=WRITE_LIMIT,
        ) as ws:
            await ws.send(json.dumps(self.hello(self)))
            first = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if first.get("type") != "welcome":
                if self.resume_token and self.relogin:
                    # Resume tokens are known to the node that issued them;
                    # on another node, log in afresh and take up the sessions.
                    self.resume_token = None
                    raise ResumeRefused(first.get("message", "resume refused"))
                self.stopped = True
                raise LinkFailed(first.get("message", "the server refused the hello"))
            resumed = self.welcome is not None
            self.welcome = first
            self.resume_token = first["resume_token"]
            self.grace = float(first.get("resume_grace", self.grace))
            self.ws = ws
            self.inbox.put_nowait(first)
            if resumed:
                self.inbox.put_nowait({"type": "link", "state": "resumed"})
            for text in list(self.outbox.values()):
                await ws.send(text)

            beat = asyncio.get_running_loop().create_task(
                self._heartbeat(ws, float(first.get("heartbeat", 20)))
            )
            try:
                async for data in ws:
                    await self._arrived(data)
            finally:
                beat.cancel()

    async def _heartbeat(self, ws: ClientConnection, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await ws.send('{"type":"ping"}')
            except ConnectionClosed:
                return

    async def _arrived(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            if self.on_data is not None:
                await self.on_data(data)
            return
        frame = json.loads(data)
        if self.tap is not None and await self.tap(frame):
            return
        self._receive(frame)

    def _receive(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "pong":
            return
        if kind == "event":
            lsid, seq = frame["lsid"], frame["event"]["seq"]
            if seq <= self.last_seq.get(lsid, 0):
                return
            self.last_seq[lsid] = seq
        if kind in ("ok", "error") and "re" in frame:
            self.outbox.pop(frame["re"], None)
            waiter = self.waiters.pop(frame["re"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(frame)
        self.inbox.put_nowait(frame)
