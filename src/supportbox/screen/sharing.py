"""The server side of shared screens: consent, parts, control, events.

A screen is a relay channel of kind ``screen``. The customer's parts
(:mod:`supportbox.screen.codec`) are checked and drawn into a framebuffer
on the way to the representative, who acknowledges each completed update
so the customer never runs more than a small window ahead. Input goes the
other way only while the customer grants control; the server, not the
representative's client, enforces that.

Events (docs/api.md, "Compatibility notes"): ``Screen Sharing Started``,
``Screen Sharing Stopped``, ``Remote Control Granted``, ``Remote Control
Revoked`` and the spec's ``Screenshot Captured``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from supportbox.errors import InvalidInput, SessionStateError
from supportbox.logs import session_log
from supportbox.screen.codec import (
    Framebuffer,
    Part,
    decode_part,
    encode_tile,
    encode_update,
)
from supportbox.screen.recorder import RecorderFactory, ScreenRecorder, ScreenSource
from supportbox.streams import frames
from supportbox.streams.states import OPEN, PENDING

if TYPE_CHECKING:
    from supportbox.live.connection import Connection
    from supportbox.streams.relay import Channel, Relay

#: The relay channel kind of a shared screen.
KIND = "screen"

SHARING_STARTED = "Screen Sharing Started"
SHARING_STOPPED = "Screen Sharing Stopped"
CONTROL_GRANTED = "Remote Control Granted"
CONTROL_REVOKED = "Remote Control Revoked"
SCREENSHOT = "Screenshot Captured"

#: Bytes of parts a viewer may have waiting; past this it skips ahead.
VIEWER_BUFFER = 4 * 1024 * 1024

#: Queued for a viewer that is behind: send the server's whole picture.
_RESYNC = b""

#: How many times its accepted width and height a screen may grow to
#: (a key update after a change of resolution); never past MAX_PIXELS.
GROWTH = 2

OFF = "off"
ASKED = "asked"
GRANTED = "granted"


@dataclass(eq=False)
class Viewer:
    """A representative watching a screen, with its own queue and writer.

    A viewer that cannot keep up never slows the customer or the others:
    when more than :data:`VIEWER_BUFFER` bytes wait, what waits is
    dropped and the viewer is sent the server's picture as a key update.
    """

    conn: Connection
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    queued: int = 0
    behind: bool = False
    skipped: int = 0

    def offer(self, frame: bytes) -> None:
        if self.behind:
            return
        if self.queued + len(frame) > VIEWER_BUFFER:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queued = 0
            self.skipped += 1
            self.resync()
            return
        self.queued += len(frame)
        self.queue.put_nowait(frame)

    def resync(self) -> None:
        self.behind = True
        self.queue.put_nowait(_RESYNC)

    def stop(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


@dataclass
class Screen:
    """What the server keeps of one shared screen."""

    framebuffer: Framebuffer = field(default_factory=Framebuffer)
    started: float = field(default_factory=time.monotonic)
    control: str = OFF
    recorder: ScreenRecorder | None = None
    #: Bytes of parts received from the customer.
    received: int = 0
    #: Representatives who watch besides the one who asked (no control).
    viewers: list[Viewer] = field(default_factory=list)
    #: Held while a part is drawn and queued for viewers, so that a viewer's
    #: copy of the picture is taken between two parts, never in one.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Screens:
    """Screen channels of one relay; ``recorder_factory`` is the seam
    described in :mod:`supportbox.screen.recorder`."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.recorder_factory: RecorderFactory | None = None

    async def open(self, rep: Connection, lsid: str, gs: int) -> int:
        """Ask the customer to share the screen; returns the channel number."""
        for other in self.relay.channels.values():
            if other.kind == KIND and other.lsid == lsid:
                raise SessionStateError(
                    f"session {lsid} already has a screen (channel {other.number});"
                    " close it first"
                )
        channel = self.relay.new_channel(KIND, rep, lsid, gs)
        channel.screen = Screen()
        await channel.customer.send(
            {"type": "screen_request", "lsid": lsid, "channel": channel.number}
        )
        return channel.number

    async def accepted(self, channel: Channel, width: int, height: int) -> None:
        """The customer shares: open the recording, store the event, tell the rep."""
        screen = _screen(channel)
        if channel.state != PENDING:
            raise SessionStateError(f"screen {channel.number} is already shared")
        channel.width, channel.height = width, height
        recorder = await self._recorder(channel)
        if self.relay.channels.get(channel.number) is not channel:
            # Closed while the recording was being opened: nothing was shown.
            if recorder is not None:
                await _close_recorder(channel, recorder, 0.0)
            raise SessionStateError(f"screen {channel.number} was closed meanwhile")
        screen.recorder = recorder
        channel.state = OPEN
        screen.started = time.monotonic()
        await self._event(channel, SHARING_STARTED, channel.rep_gs)
        await channel.rep.send(
            {
                "type": "screen_opened",
                "lsid": channel.lsid,
                "channel": channel.number,
                "width": width,
                "height": height,
            }
        )

    async def _recorder(self, channel: Channel) -> ScreenRecorder | None:
        if self.recorder_factory is None:
            return None
        source = ScreenSource(
            self.relay.runtime,
            channel.lsid,
            channel.number,
            channel.rep_gs,
            channel.width,
            channel.height,
        )
        try:
            return await self.recorder_factory(source)
        except SessionStateError as exc:
            await self.relay.end(channel, str(exc), by=None)
            raise
        except Exception:
            session_log.exception("session %s: screen recording failed", channel.lsid)
            return None

    async def part(self, channel: Channel, conn: Connection, frame: bytes) -> None:
        """One part from the customer: check it, draw it, pass it on."""
        if conn is not channel.customer:
            raise SessionStateError("only the customer sends screen parts")
        screen = _screen(channel)
        _number, _chunk, data = frames.decode(frame)
        part = decode_part(bytes(data))
        if part.width > GROWTH * channel.width or part.height > GROWTH * channel.height:
            raise InvalidInput(
                f"a screen shared as {channel.width}x{channel.height} grows to at"
                f" most {GROWTH * channel.width}x{GROWTH * channel.height}"
            )
        record = screen.recorder is not None
        async with screen.lock:
            picture = await asyncio.to_thread(_draw, screen.framebuffer, part, record)
            screen.received += len(data)
            for viewer in screen.viewers:
                # Only to those still in the session (see Relay.left).
                if channel.lsid in viewer.conn.memberships:
                    viewer.offer(frame)
        # The representative paces the customer (screen_ack), so at most a
        # window of updates is ever on its way to it.
        if channel.lsid in channel.rep.memberships:
            await channel.rep.send_bytes(frame)
        if picture is not None and screen.recorder is not None:
            rgb, (width, height) = picture
            at = time.monotonic() - screen.started
            screen.recorder.frame(rgb, width, height, at)

    async def watch(self, conn: Connection, lsid: str) -> Channel:
        """Another representative of the session watches its shared screen.

        The viewer is sent the server's picture as a key update, then every
        part that follows. Viewers neither acknowledge nor control.
        """
        shared = [
            c
            for c in self.relay.channels.values()
            if c.kind == KIND and c.lsid == lsid and c.state == OPEN
        ]
        if not shared:
            raise SessionStateError(f"no screen is shared in session {lsid}")
        channel = shared[-1]
        screen = _screen(channel)
        if conn is channel.rep or any(v.conn is conn for v in screen.viewers):
            raise SessionStateError("you already see this screen")
        viewer = Viewer(conn)
        async with screen.lock:
            await conn.send(
                {
                    "type": "screen_opened",
                    "lsid": lsid,
                    "channel": channel.number,
                    "width": screen.framebuffer.size[0] or channel.width,
                    "height": screen.framebuffer.size[1] or channel.height,
                    "viewer": True,
                }
            )
            if screen.framebuffer.ready:
                viewer.resync()
            screen.viewers.append(viewer)
        conn.spawn(self._write(channel, screen, viewer))
        return channel

    async def _write(self, channel: Channel, screen: Screen, viewer: Viewer) -> None:
        """Send a viewer its parts, in order, at its own pace."""
        while True:
            frame = await viewer.queue.get()
            if frame is None:
                return
            if frame:
                viewer.queued -= len(frame)
                await viewer.conn.send_bytes(frame)
                continue
            async with screen.lock:
                # The picture as it is between two parts; parts after it
                # are queued again from here on.
                image = await asyncio.to_thread(screen.framebuffer.image)
                viewer.behind = False
            parts = await asyncio.to_thread(_key_update, image)
            for index, part in enumerate(parts):
                await viewer.conn.send_bytes(frames.encode(channel.number, index, part))

    def unwatch(self, conn: Connection, lsid: str | None = None) -> bool:
        """``conn`` stops watching every screen (of ``lsid`` when given);
        whether it watched one."""
        found = False
        for channel in self.relay.channels.values():
            if lsid is not None and channel.lsid != lsid:
                continue
            for viewer in list(channel.screen.viewers if channel.screen else []):
                if viewer.conn is conn:
                    assert channel.screen is not None
                    channel.screen.viewers.remove(viewer)
                    viewer.stop()
                    found = True
        return found

    def watched_by(self, conn: Connection, number: int) -> bool:
        channel = self.relay.channels.get(number)
        return bool(
            channel
            and channel.screen
            and any(v.conn is conn for v in channel.screen.viewers)
            and channel.lsid in conn.memberships
        )

    async def ack(self, channel: Channel, update: int) -> None:
        """The representative drew ``update`` updates: the customer may go on."""
        await channel.customer.send(
            {"type": "screen_ack", "channel": channel.number, "update": update}
        )

    # control

    async def ask_control(self, channel: Channel) -> None:
        screen = _screen(channel)
        if screen.control == GRANTED:
            raise SessionStateError("control is already granted")
        screen.control = ASKED
        await channel.customer.send(
            {"type": "control_request", "channel": channel.number}
        )

    async def grant(self, channel: Channel, gs: int) -> None:
        screen = _screen(channel)
        if screen.control != ASKED:
            raise SessionStateError("control was not asked for")
        screen.control = GRANTED
        await self._event(channel, CONTROL_GRANTED, gs)
        await channel.rep.send({"type": "control_granted", "channel": channel.number})

    async def refuse_control(self, channel: Channel, reason: str) -> None:
        screen = _screen(channel)
        if screen.control != ASKED:
            return
        screen.control = OFF
        await channel.rep.send(
            {"type": "control_refused", "channel": channel.number, "reason": reason}
        )

    async def revoke(self, channel: Channel, gs: int, reason: str) -> None:
        """Control ends now; input that arrives after this is refused."""
        screen = _screen(channel)
        if screen.control != GRANTED:
            screen.control = OFF
            return
        screen.control = OFF
        await self._event(channel, CONTROL_REVOKED, gs, [("reason", reason)])
        frame = {"type": "control_revoked", "channel": channel.number, "reason": reason}
        await channel.rep.send(frame)
        await channel.customer.send(frame)

    async def input(self, channel: Channel, events: list[dict[str, Any]]) -> None:
        if _screen(channel).control != GRANTED:
            raise SessionStateError("remote control is not granted")
        await channel.customer.send(
            {"type": "screen_input", "channel": channel.number, "events": events}
        )

    # screenshots and the end

    async def screenshot(self, channel: Channel, name: str) -> tuple[int, int]:
        """Store ``Screenshot Captured`` for what the server last drew."""
        screen = _screen(channel)
        if not screen.framebuffer.ready:
            raise InvalidInput("no picture of the screen has arrived yet")
        width, height = screen.framebuffer.size
        data = [("filename", name), ("width", str(width)), ("height", str(height))]
        await self._event(channel, SCREENSHOT, channel.rep_gs, data)
        return width, height

    async def closed(self, channel: Channel, reason: str) -> None:
        """The channel is gone: close the recording, store the stop."""
        screen = _screen(channel)
        if channel.state != OPEN:
            return
        updates = screen.framebuffer.updates
        data = [("reason", reason), ("updates", str(updates))]
        data.append(("bytes", str(screen.received)))
        if screen.control == GRANTED:
            screen.control = OFF
            await self._event(
                channel, CONTROL_REVOKED, channel.rep_gs, [("reason", reason)]
            )
        await self._event(channel, SHARING_STOPPED, channel.rep_gs, data)
        viewers, screen.viewers = screen.viewers, []
        for viewer in viewers:
            viewer.stop()
            await viewer.conn.send(
                {"type": "screen_closed", "channel": channel.number, "reason": reason}
            )
        if screen.recorder is not None:
            recorder, screen.recorder = screen.recorder, None
            await _close_recorder(channel, recorder, time.monotonic() - screen.started)
        session_log.info(
            "session %s: screen channel %s closed after %s updates (%s)",
            channel.lsid,
            channel.number,
            updates,
            reason,
        )

    async def _event(
        self,
        channel: Channel,
        kind: str,
        gs: int,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        data = [("channel", str(channel.number)), *(extra or [])]
        try:
            await self.relay.hub.record(channel.lsid, kind, gs, data=data)
        except SessionStateError:
            # The session ended first; the stop is implied by its end.
            session_log.debug(
                "session %s: %s not stored, session ended", channel.lsid, kind
            )


async def _close_recorder(
    channel: Channel, recorder: ScreenRecorder, at: float
) -> None:
    try:
        await asyncio.to_thread(recorder.close, at)
    except Exception:
        session_log.exception("session %s: closing a recording failed", channel.lsid)


def _draw(
    framebuffer: Framebuffer, part: Part, record: bool
) -> tuple[bytes, tuple[int, int]] | None:
    """Draw a part (in a worker thread); when it completed an update and
    the screen is recorded, a copy of the picture and its size."""
    if framebuffer.apply(part) and record:
        return framebuffer.rgb(), framebuffer.size
    return None


def _key_update(image: Image.Image) -> list[bytes]:
    """The whole picture as the parts of one key update (PNG tiles)."""
    width, height = image.size
    tiles = [
        encode_tile(image.crop((x, y, min(x + 64, width), min(y + 64, height))), x, y)
        for y in range(0, height, 64)
        for x in range(0, width, 64)
    ]
    return encode_update(tiles, width, height, key=True)


def _screen(channel: Channel) -> Screen:
    if channel.screen is None:
        raise SessionStateError(f"channel {channel.number} is not a screen")
    return channel.screen
