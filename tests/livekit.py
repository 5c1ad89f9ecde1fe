"""Talking the live protocol to a real server in tests."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, OpenedSession, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.storage.models import SessionEvent, SupportSession

T = TypeVar("T")
PASSWORD = "demo-rep-pass"
ALICE, BOB, CAROL = 1, 2, 3
TECH = 1


def on_server(server: LiveServer, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on the server's event loop, where its broker lives."""
    loop = server.runtime.services["live"].loop
    return asyncio.run_coroutine_threadsafe(work, loop).result(15)


def hub(server: LiveServer) -> Hub:
    found: Hub = server.runtime.services["hub"]
    return found


def open_session(
    server: LiveServer, queue: str = "general", key: str = ""
) -> OpenedSession:
    request = SessionRequest(
        queue=QueueRef.parse(queue),
        customer=CustomerInfo(name="Jane", company="Acme", issue="Printer problem"),
        external_key=key,
    )
    return on_server(server, hub(server).open_session(request))


def stored_events(server: LiveServer, lsid: str) -> list[SessionEvent]:
    with server.runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        query = (
            select(SessionEvent)
            .where(SessionEvent.session_id == session.id)
            .order_by(SessionEvent.seq)
        )
        return list(db.scalars(query))


class Peer:
    """A raw protocol client that keeps every frame it was sent."""

    _ids = itertools.count(1)

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []

    async def send(self, kind: str, **fields: Any) -> str:
        ident = f"c{next(self._ids)}"
        await self.ws.send(json.dumps({"type": kind, "id": ident, **fields}))
        return ident

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def _next(self) -> dict[str, Any]:
        if self._unread:
            return self._unread.pop(0)
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        self.frames.append(frame)
        return frame

    async def expect(self, kind: str, **match: Any) -> dict[str, Any]:
        """The next frame of ``kind`` matching ``match``; others stay unread."""
        skipped = []
        try:
            while True:
                frame = await self._next()
                if frame["type"] == kind and all(
                    frame.get(k) == v for k, v in match.items()
                ):
                    return frame
                skipped.append(frame)
        finally:
            self._unread[:0] = skipped

    async def call(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send a command and wait for its ``ok`` or ``error``."""
        ident = await self.send(kind, **fields)
        skipped = []
        try:
            while True:
                frame = await self._next()
                if frame.get("re") == ident and frame["type"] in ("ok", "error"):
                    return frame
                skipped.append(frame)
        finally:
            self._unread[:0] = skipped

    async def event(self, event_type: str, **match: Any) -> dict[str, Any]:
        """The next session event of ``event_type``."""
        skipped = []
        try:
            while True:
                frame = await self._next()
                if frame["type"] == "event":
                    event = frame["event"]
                    if event["event_type"] == event_type and all(
                        event.get(k) == v for k, v in match.items()
                    ):
                        return event
                skipped.append(frame)
        finally:
            self._unread[:0] = skipped

    async def close(self) -> None:
        await self.ws.close()


async def connect_customer(
    server: LiveServer, opened: OpenedSession, **hello: Any
) -> tuple[Peer, dict[str, Any]]:
    peer = Peer(await connect(server.ws_url + "/live"))
    await peer.send(
        "hello",
        v=1,
        role="customer",
        lsid=opened.lsid,
        token=hello.pop("token", opened.join_token),
        **hello,
    )
    first = await peer._next()
    return peer, first


async def connect_rep(
    server: LiveServer, username: str, **hello: Any
) -> tuple[Peer, dict[str, Any]]:
    peer = Peer(await connect(server.ws_url + "/live"))
    await peer.send(
        "hello", v=1, role="representative", username=username, password=PASSWORD
    )
    welcome = await peer.expect("welcome")
    return peer, welcome


class Proxy:
    """A TCP relay in front of the server whose connections can be cut."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.transports: list[asyncio.Transport] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _relay(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        server_r, server_w = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        for writer in (client_w, server_w):
            transport = writer.transport
            assert isinstance(transport, asyncio.Transport)
            self.transports.append(transport)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.transport.abort()

        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    def cut(self) -> None:
        """Reset every relayed connection at once, as a dead network would."""
        for transport in self.transports:
            transport.abort()
        self.transports.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
