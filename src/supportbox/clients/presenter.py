"""``supportbox present``: show this computer's screen to attendees.

The presenter logs in as a representative on the live WebSocket, asks for
a presentation (``present_start``), prints the presentation key and URL
for the attendees, then captures the screen a few times a second and
sends what changed as screen update parts (docs/protocol.md,
"Presentations"): the screen is cut into tiles, and only tiles whose
pixels changed travel, as PNG. Every ``key_every`` seconds a key update
(every tile) goes out, so that attendees who join late, or fell behind,
catch up.

A reader task takes the server's text frames: replies go to the request
waiting for them; an ``error`` frame that answers no request (a part the
server refused, say) is logged and kept in :attr:`Presenter.errors`.
When the link drops, the reader logs it and every waiting request fails
at once with :class:`LinkFailed` (as do later ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import platform
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image, ImageChops
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from supportbox import tuning
from supportbox.clients.link import live_url
from supportbox.errors import AuthError, LinkFailed
from supportbox.screen import codec
from supportbox.streams import frames

TILE = 128

log = logging.getLogger("supportbox.presenter")


class Source(Protocol):
    """Where pictures come from: the screen, or a test's picture."""

    def grab(self) -> Image.Image: ...


class ScreenSource:
    """The screen of this computer through mss (X11, Windows, macOS).

    mss is opened by the first :meth:`grab`, in the thread that calls it;
    call every method from that one thread (:meth:`Presenter.share` does).
    """

    def __init__(self, monitor: int = 1) -> None:
        self._monitor = monitor
        self._mss: Any = None

    def grab(self) -> Image.Image:
        if self._mss is None:
            import mss

            self._mss = mss.MSS()
        shot = self._mss.grab(self._mss.monitors[self._monitor])
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    def close(self) -> None:
        if self._mss is not None:
            self._mss.close()
            self._mss = None


class Tiler:
    """Turns successive pictures into the parts of screen updates."""

    def __init__(self, tile: int = TILE) -> None:
        self.tile = tile
        self._last: Image.Image | None = None

    def parts(self, picture: Image.Image, key: bool) -> list[bytes]:
        """The parts of the update from the last picture to ``picture``.

        A key update when ``key``, at the first picture or when the size
        changed; an empty list when nothing changed.
        """
        picture = picture.convert("RGB")
        width, height = picture.size
        last = self._last
        key = key or last is None or last.size != picture.size
        self._last = picture
        tiles = []
        for y in range(0, height, self.tile):
            for x in range(0, width, self.tile):
                box = (x, y, min(x + self.tile, width), min(y + self.tile, height))
                crop = picture.crop(box)
                if not key and last is not None and _same(crop, last.crop(box)):
                    continue
                tiles.append(codec.encode_tile(crop, x, y))
        if not tiles and not key:
            return []
        return codec.encode_update(tiles, width, height, key)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return ImageChops.difference(a, b).getbbox() is None


@dataclass
class Started:
    lsid: str
    key: str
    url: str
    channel: int
    recording: bool


class Presenter:
    """One presentation over one live connection."""

    def __init__(self, server: str, username: str, password: str) -> None:
        self.url = live_url(server)
        self.username = username
        self.password = password
        self.ws: ClientConnection | None = None
        self.started: Started | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        #: ``error`` frames the server sent that answered no request
        self.errors: list[dict[str, Any]] = []
        #: why the link is gone, once the reader has stopped
        self.gone: LinkFailed | None = None
        # The server remembers replies by command id per representative
        # (for resumes): ids unique to this presenter never get the reply
        # of an earlier presenter's command.
        self._id_prefix = secrets.token_hex(4)
        self._ids = 0
        self._chunk = 0

    async def open(self) -> Started:
        """Log in and start the presentation; raises AuthError or LinkFailed."""
        try:
            self.ws = await connect(self.url, max_size=4 * 1024 * 1024)
        except OSError as exc:
            raise LinkFailed(f"cannot reach {self.url}: {exc}") from None
        hello = {
            "type": "hello",
            "v": 1,
            "role": "representative",
            "username": self.username,
            "password": self.password,
            "queue_updates": False,
            "client": {"hostname": socket.gethostname(), "os": platform.system()},
        }
        await self.ws.send(json.dumps(hello))
        welcome = json.loads(await self.ws.recv())
        if welcome.get("type") != "welcome":
            raise AuthError(str(welcome.get("message", "the server refused the login")))
        self._reader = asyncio.create_task(self._read(self.ws))
        try:
            reply = await self.request("present_start")
        except BaseException:
            await self.ws.close()
            self._reader.cancel()
            raise
        self.started = Started(
            reply["lsid"],
            reply["key"],
            reply["url"],
            reply["channel"],
            bool(reply.get("recording")),
        )
        return self.started

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        assert self.ws is not None
        self._ids += 1
        ident = f"p{self._id_prefix}-{self._ids}"
        if self.gone is not None:
            raise self.gone
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[ident] = waiter
        try:
            await self.ws.send(json.dumps({"type": kind, "id": ident, **fields}))
            reply: dict[str, Any] = await asyncio.wait_for(waiter, 30)
        except ConnectionClosed as exc:
            raise LinkFailed(
                f"{kind} failed: the connection was lost ({exc})"
            ) from None
        except TimeoutError:
            raise LinkFailed(f"{kind} failed: no answer within 30 seconds") from None
        finally:
            self._waiters.pop(ident, None)
        if reply.get("type") == "error":
            raise LinkFailed(f"{kind} failed: {reply.get('message')}")
        return reply

    async def _read(self, ws: ClientConnection) -> None:
        reason = "the server closed the connection"
        try:
            async for text in ws:
                if isinstance(text, bytes):
                    continue  # nothing binary comes to a presenter
                frame = json.loads(text)
                waiter = self._waiters.pop(str(frame.get("re")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
                elif frame.get("type") == "error":
                    self.errors.append(frame)
                    log.warning(
                        "the server reported an error: %s (%s)",
                        frame.get("message"),
                        frame.get("code"),
                    )
        except ConnectionClosed as exc:
            reason = f"the connection to the server was lost ({exc})"
        except Exception as exc:  # a garbled frame: the link is unusable
            log.exception("reading from the server failed")
            reason = f"reading from the server failed ({exc})"
        finally:
            self._lost(reason)

    def _lost(self, reason: str) -> None:
        self.gone = LinkFailed(reason)
        if self._waiters:
            log.error("%s; %d request(s) fail", reason, len(self._waiters))
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(LinkFailed(reason))
        self._waiters.clear()

    async def send_parts(self, parts: list[bytes]) -> None:
        assert self.ws is not None and self.started is not None
        if self.gone is not None:
            raise self.gone
        try:
            for part in parts:
                frame = frames.encode(self.started.channel, self._chunk, part)
                await self.ws.send(frame)
                self._chunk += 1
        except ConnectionClosed as exc:
            raise LinkFailed(f"the connection to the server was lost ({exc})") from None

    async def share(
        self,
        source: Source,
        *,
        fps: float = 5.0,
        key_every: float = 5.0,
        until: Callable[[], bool] = lambda: False,
    ) -> int:
        """Send the screen until ``until()``; the number of updates sent.

        Capture and tiling run on one thread of their own, off the loop.
        """
        loop = asyncio.get_running_loop()
        tiler = Tiler()
        sent = 0
        last_key = 0.0
        with ThreadPoolExecutor(1, thread_name_prefix="capture") as worker:

            def capture(key: bool) -> list[bytes]:
                return tiler.parts(source.grab(), key)

            while not until():
                began = time.monotonic()
                key = began - last_key >= key_every
                parts = await loop.run_in_executor(worker, capture, key)
                if parts:
                    await self.send_parts(parts)
                    sent += 1
                    if codec.decode_part(parts[0]).key:
                        last_key = began
                await asyncio.sleep(max(0.0, 1 / fps - (time.monotonic() - began)))
            close = getattr(source, "close", None)
            if close is not None:
                await loop.run_in_executor(worker, close)
        return sent

    async def close(self) -> None:
        """End the presentation and log out."""
        if self.ws is None:
            return
        with contextlib.suppress(Exception):
            if self.started is not None:
                await self.request("present_stop", lsid=self.started.lsid)
            await self.ws.send('{"type":"bye"}')
        await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()


async def _present(
    server: str, username: str, password: str, monitor: int, seconds: float | None
) -> int:
    presenter = Presenter(server, username, password)
    started = await presenter.open()
    print(f"presentation key: {started.key}")
    print(f"attendees open:   {started.url}")
    if not started.recording:
        print("this presentation is not recorded")
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        await presenter.share(
            ScreenSource(monitor),
            until=lambda: deadline is not None and time.monotonic() > deadline,
        )
    finally:
        await presenter.close()
    print("presentation ended")
    return 0


def main(
    server: str,
    username: str,
    password: str,
    monitor: int = 1,
    seconds: float | None = None,
) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        return tuning.run(
            lambda: _present(server, username, password, monitor, seconds)
        )
    return 0
