"""The server side of shells, file transfers and shared screens.

A *channel* joins the representative who asked for it and the customer of
the session. The relay passes the channel's binary frames from one side
to the other, records every shell (output, input, resizes) as it passes,
checks each transfer's size and SHA-256 on the way, and stores the events:
``Command Shell Session Started``, ``File Upload``/``File Download`` and
their ``Failed`` forms. Shared screens are channels too; what is
particular to them lives in :mod:`supportbox.screen.sharing`.

Both sides of a channel must be connected to the same server node; see
docs/limitations.md.
"""

from __future__ import annotations

import hashlib
import itertools
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supportbox.core import events as ev
from supportbox.core.hub import Hub
from supportbox.errors import NotFound, SessionStateError, TransferRefused
from supportbox.logs import session_log
from supportbox.recording.links import shell_links
from supportbox.recording.shell import ShellRecorder
from supportbox.runtime import Runtime
from supportbox.screen.sharing import KIND as SCREEN
from supportbox.screen.sharing import Screen, Screens
from supportbox.streams import frames
from supportbox.streams.states import OPEN, PENDING

if TYPE_CHECKING:
    from supportbox.live.connection import Connection

SERVICE = "streams"

SHELL = "shell"
UPLOAD = "upload"
DOWNLOAD = "download"


@dataclass
class Channel:
    number: int
    kind: str
    lsid: str
    rep: Connection
    rep_gs: int
    customer: Connection
    state: str = PENDING
    width: int = 80
    height: int = 24
    recorder: ShellRecorder | None = None
    path: str = ""
    size: int = 0
    moved: int = 0
    digest: Any = field(default_factory=hashlib.sha256)
    chunks: int = 0
    screen: Screen | None = None


def relay_of(runtime: Runtime) -> Relay:
    relay: Relay = runtime.services[SERVICE]
    return relay


class Relay:
    """Channels of this node, by number; customers of this node, by session."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.customers: dict[str, Connection] = {}
        self.channels: dict[int, Channel] = {}
        self._numbers = itertools.count(1)
        self.screens = Screens(self)

    @property
    def hub(self) -> Hub:
        found: Hub = self.runtime.services["hub"]
        return found

    # who is here

    def customer_here(self, lsid: str, conn: Connection) -> None:
        self.customers[lsid] = conn

    async def gone(self, conn: Connection) -> None:
        """A connection closed: end its channels, forget it as a customer."""
        for lsid, customer in list(self.customers.items()):
            if customer is conn:
                del self.customers[lsid]
        self.screens.unwatch(conn)
        for channel in list(self.channels.values()):
            if conn in (channel.rep, channel.customer):
                await self.end(channel, "the other side disconnected", by=conn)

    async def left(self, conn: Connection, lsid: str) -> None:
        """``conn`` is no longer in ``lsid`` (it left, was transferred away,
        or the session ended): it loses that session's channels and screens."""
        self.screens.unwatch(conn, lsid)
        for channel in list(self.channels.values()):
            if channel.lsid == lsid and conn in (channel.rep, channel.customer):
                reason = (
                    "the representative left the session"
                    if conn is channel.rep
                    else "the session ended"
                )
                try:
                    await self.end(channel, reason, by=None)
                except Exception:
                    session_log.exception(
                        "session %s: closing channel %s failed",
                        lsid,
                        channel.number,
                    )

    def _customer(self, lsid: str) -> Connection:
        customer = self.customers.get(lsid)
        if customer is None or customer.closing:
            raise SessionStateError("the customer is not connected")
        return customer

    def channel(
        self, conn: Connection, number: int, kind: str | None = None
    ) -> Channel:
        found = self.channels.get(number)
        if found is None or conn not in (found.rep, found.customer):
            raise NotFound(f"no channel {number}")
        if kind is not None and found.kind != kind:
            raise NotFound(f"channel {number} is not a {kind} channel")
        if found.lsid not in conn.memberships:
            # Left, transferred away or ended: the channel is no longer theirs.
            raise SessionStateError(f"you are no longer in session {found.lsid}")
        return found

    def new_channel(self, kind: str, rep: Connection, lsid: str, gs: int) -> Channel:
        channel = Channel(
            next(self._numbers), kind, lsid, rep, gs, self._customer(lsid)
        )
        self.channels[channel.number] = channel
        return channel

    # shells

    async def open_shell(
        self, rep: Connection, lsid: str, gs: int, width: int, height: int
    ) -> int:
        """Ask the customer for a shell; returns the channel number."""
        channel = self.new_channel(SHELL, rep, lsid, gs)
        channel.width, channel.height = width, height
        await channel.customer.send(
            {
                "type": "shell_request",
                "lsid": lsid,
                "channel": channel.number,
                "width": width,
                "height": height,
            }
        )
        return channel.number

    async def shell_accepted(self, channel: Channel, env: dict[str, str]) -> None:
        """The customer allowed the shell: start its recording and announce it."""
        if channel.state != PENDING:
            raise SessionStateError(f"shell {channel.number} is already open")
        recorder = await ShellRecorder.start(
            self.runtime, channel.lsid, channel.width, channel.height, env
        )
        channel.recorder, channel.state = recorder, OPEN
        links = shell_links(self.runtime, channel.lsid, recorder.instance, "event")
        await self.hub.record(
            channel.lsid,
            ev.SHELL_STARTED,
            channel.rep_gs,
            data=[
                ("instance", str(recorder.instance)),
                ("view_url", links.view_url),
                ("download_url", links.download_url),
            ],
        )
        await channel.rep.send(
            {
                "type": "shell_opened",
                "lsid": channel.lsid,
                "channel": channel.number,
                "instance": recorder.instance,
                "view_url": links.view_url,
                "download_url": links.download_url,
            }
        )

    async def resize(self, channel: Channel, width: int, height: int) -> None:
        channel.width, channel.height = width, height
        if channel.recorder is not None:
            channel.recorder.resize(width, height)
        await channel.customer.send(
            {
                "type": "shell_resize",
                "channel": channel.number,
                "width": width,
                "height": height,
            }
        )

    # transfers

    async def send_file(
        self, rep: Connection, lsid: str, gs: int, path: str, size: int, overwrite: bool
    ) -> int:
        """The representative sends a file; returns the channel number."""
        limit = self.runtime.settings.max_transfer_size
        if size > limit:
            await self._failed_event(UPLOAD, lsid, gs, path, size, "too large")
            raise TransferRefused(
                f"the file is larger than the limit of {limit} bytes", path, size
            )
        channel = self.new_channel(UPLOAD, rep, lsid, gs)
        channel.path, channel.size = path, size
        await channel.customer.send(
            {
                "type": "file_incoming",
                "channel": channel.number,
                "path": path,
                "size": size,
                "overwrite": overwrite,
            }
        )
        return channel.number

    async def fetch_file(self, rep: Connection, lsid: str, gs: int, path: str) -> int:
        """The representative asks for a customer's file."""
        channel = self.new_channel(DOWNLOAD, rep, lsid, gs)
        channel.path = path
        await channel.customer.send(
            {"type": "file_request", "channel": channel.number, "path": path}
        )
        return channel.number

    async def file_accepted(self, channel: Channel, size: int | None) -> None:
        """The customer is ready to receive, or starts sending ``size`` bytes."""
        if channel.state != PENDING:
            raise SessionStateError(f"transfer {channel.number} already started")
        if channel.kind == DOWNLOAD:
            limit = self.runtime.settings.max_transfer_size
            if size is None or size < 0:
                raise TransferRefused("the file size was not given", channel.path)
            channel.size = size
            if size > limit:
                await self.fail(
                    channel, f"the file is larger than the limit of {limit} bytes"
                )
                return
        channel.state = OPEN
        await channel.rep.send(
            {"type": "file_accepted", "channel": channel.number, "size": channel.size}
        )

    async def file_end(self, channel: Channel, sha256: str) -> None:
        """The sender has sent everything; check it on the way through."""
        if channel.moved != channel.size:
            await self.fail(
                channel,
                f"the transfer ended after {channel.moved} of {channel.size} bytes",
            )
            return
        if channel.digest.hexdigest() != sha256.lower():
            await self.fail(channel, "the SHA-256 of the data does not match")
            return
        if channel.kind == UPLOAD:
            await channel.customer.send(
                {"type": "file_end", "channel": channel.number, "sha256": sha256}
            )
            return
        await self._done(channel)
        await channel.rep.send(
            {"type": "file_end", "channel": channel.number, "sha256": sha256}
        )

    async def upload_stored(self, channel: Channel) -> None:
        await self._done(channel)
        await channel.rep.send(
            {
                "type": "file_done",
                "channel": channel.number,
                "path": channel.path,
                "size": channel.size,
                "sha256": channel.digest.hexdigest(),
            }
        )

    async def _done(self, channel: Channel) -> None:
        self.channels.pop(channel.number, None)
        kind = ev.FILE_UPLOAD if channel.kind == UPLOAD else ev.FILE_DOWNLOAD
        await self.hub.record(
            channel.lsid,
            kind,
            channel.rep_gs,
            filename=channel.path,
            filesize=channel.size,
            data=_file_data(channel.path, channel.size),
        )
        session_log.info(
            "session %s: %s of %s bytes done", channel.lsid, channel.kind, channel.size
        )

    async def fail(self, channel: Channel, reason: str) -> None:
        """A transfer failed or was refused: store it, tell both sides."""
        if self.channels.pop(channel.number, None) is None:
            return
        try:
            await self._failed_event(
                channel.kind,
                channel.lsid,
                channel.rep_gs,
                channel.path,
                channel.size,
                reason,
            )
        except SessionStateError:
            # The session ended first; both sides are still told.
            session_log.debug("session %s: transfer failure not stored", channel.lsid)
        frame = {
            "type": "file_failed",
            "channel": channel.number,
            "path": channel.path,
            "size": channel.size,
            "reason": reason,
        }
        await channel.rep.send(frame)
        await channel.customer.send(frame)

    async def _failed_event(
        self, kind: str, lsid: str, gs: int, path: str, size: int, reason: str
    ) -> None:
        event = ev.FILE_UPLOAD_FAILED if kind == UPLOAD else ev.FILE_DOWNLOAD_FAILED
        await self.hub.record(
            lsid,
            event,
            gs,
            filename=path,
            filesize=size,
            data=[*_file_data(path, size), ("reason", reason)],
        )

    # data

    async def binary(self, conn: Connection, frame: bytes) -> None:
        """Pass one binary frame to the other side of its channel."""
        number, _chunk, data = frames.decode(frame)
        channel = self.channel(conn, number)
        if channel.state != OPEN:
            raise SessionStateError(f"channel {number} is not open")
        from_rep = conn is channel.rep
        if channel.kind == SCREEN:
            await self.screens.part(channel, conn, frame)
            return
        if channel.kind == SHELL:
            assert channel.recorder is not None
            if from_rep:
                channel.recorder.input(bytes(data))
            else:
                channel.recorder.output(bytes(data))
            other = channel.customer if from_rep else channel.rep
            await other.send_bytes(frame)
            return
        sender_is_rep = channel.kind == UPLOAD
        if from_rep != sender_is_rep:
            raise SessionStateError(f"channel {number} carries data the other way")
        channel.moved += len(data)
        if channel.moved > channel.size:
            await self.fail(channel, "more data arrived than the announced size")
            return
        receiver = channel.customer if sender_is_rep else channel.rep
        # Hashed here rather than in a worker thread: on two cores the
        # hand-over cost more than it saved (docs/performance.md).
        channel.digest.update(data)
        await receiver.send_bytes(frame)

    # closing

    async def end(self, channel: Channel, reason: str, by: Connection | None) -> None:
        """Close a shell or a screen (either side may) or abandon a transfer."""
        if channel.kind not in (SHELL, SCREEN):
            await self.fail(channel, reason)
            return
        if self.channels.pop(channel.number, None) is None:
            return
        closed = "screen_closed" if channel.kind == SCREEN else "shell_closed"
        frame = {"type": closed, "channel": channel.number, "reason": reason}
        for side in (channel.rep, channel.customer):
            if side is not by:
                await side.send(frame)
        if channel.kind == SCREEN:
            await self.screens.closed(channel, reason)
            return
        if channel.recorder is not None:
            await channel.recorder.close()
        session_log.info(
            "session %s: shell channel %s closed (%s)",
            channel.lsid,
            channel.number,
            reason,
        )


def _file_data(path: str, size: int) -> list[tuple[str, str]]:
    name = posixpath.basename(path.replace("\\", "/"))
    return [("path", path), ("filename", name), ("filesize", str(size))]
