"""A customer with the real agent and a representative, over real WebSockets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from livekit import PASSWORD
from serverkit import LiveServer
from supportbox.core.hub import OpenedSession
from supportbox.remote.agent import CustomerAgent
from supportbox.screen.agent import ScreenAgent
from supportbox.streams import frames


class Side:
    """One connection: JSON frames and binary frames, each in their queue."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.json: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.data: asyncio.Queue[bytes] = asyncio.Queue()
        self.agent: CustomerAgent | None = None
        self.screen: ScreenAgent | None = None
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if isinstance(message, bytes):
                if self.agent is not None:
                    await self.agent.data(message)
                else:
                    self.data.put_nowait(message)
                continue
            frame = json.loads(message)
            if self.screen is not None and await self.screen.handle(frame):
                continue
            if self.agent is not None and await self.agent.handle(frame):
                continue
            self.json.put_nowait(frame)

    async def send(self, kind: str, **fields: Any) -> None:
        await self.ws.send(json.dumps({"type": kind, **fields}))

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def expect(
        self, kind: str, timeout: float = 30, **match: Any
    ) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                frame = await self.json.get()
                if frame["type"] == kind and all(
                    frame.get(k) == v for k, v in match.items()
                ):
                    return frame

        return await asyncio.wait_for(find(), timeout)

    async def expect_any(
        self, *kinds: str, timeout: float = 30, **match: Any
    ) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                frame = await self.json.get()
                if frame["type"] in kinds and all(
                    frame.get(k) == v for k, v in match.items()
                ):
                    return frame

        return await asyncio.wait_for(find(), timeout)

    async def event(self, event_type: str, timeout: float = 30) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            while True:
                frame = await self.json.get()
                if (
                    frame["type"] == "event"
                    and frame["event"]["event_type"] == event_type
                ):
                    event: dict[str, Any] = frame["event"]
                    return event

        return await asyncio.wait_for(find(), timeout)

    async def output_until(
        self, channel: int, needle: bytes, timeout: float = 30
    ) -> bytes:
        """Output of ``channel`` up to ``needle`` (only its last MiB is kept)."""
        seen = bytearray()

        async def collect() -> bytes:
            while True:
                number, _chunk, data = frames.decode(await self.data.get())
                if number != channel:
                    continue
                tail = len(seen)
                seen.extend(data)
                if needle in seen[max(0, tail - len(needle)) :]:
                    return bytes(seen[-1024 * 1024 :])
                if len(seen) > 2 * 1024 * 1024:
                    del seen[: -1024 * 1024]

        return await asyncio.wait_for(collect(), timeout)

    async def close(self) -> None:
        if self.agent is not None:
            await self.agent.close()
        if self.screen is not None:
            await self.screen.close()
        await self.ws.close()
        self.reader.cancel()


async def customer(
    server: LiveServer,
    opened: OpenedSession,
    *,
    allow: tuple[str, ...] = ("shell", "files"),
    files_dir: Path | None = None,
    max_size: int | None = None,
) -> Side:
    side = Side(await connect(server.ws_url + "/live", max_size=None, compression=None))
    side.agent = CustomerAgent(
        lambda frame: side.send_frame(frame),
        side.ws.send,
        allow=allow,
        files_dir=files_dir,
        max_size=max_size or server.settings.max_transfer_size,
        shell_argv=["/bin/sh"],
    )
    await side.send(
        "hello", v=1, role="customer", lsid=opened.lsid, token=opened.join_token
    )
    await side.expect("welcome")
    return side


async def representative(server: LiveServer, username: str = "alice") -> Side:
    side = Side(await connect(server.ws_url + "/live", max_size=None, compression=None))
    await side.send(
        "hello",
        v=1,
        role="representative",
        username=username,
        password=PASSWORD,
        queue_updates=False,
    )
    await side.expect("welcome")
    return side
