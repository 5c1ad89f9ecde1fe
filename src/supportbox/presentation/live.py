"""Live presentations: one presenter's screen parts fanned out to attendees.

The presenter's connection sends screen update parts (docs/protocol.md,
"Presentations") on the presentation's channel. Each part goes to the
recording feed and to every attendee's queue. The service keeps the
parts since the latest key update began (its *replay*), so an attendee
who joins late starts from that key update and is current at once.

An attendee whose queue holds more than ``ATTENDEE_BUFFER`` bytes (a slow
link) skips ahead: its queue is emptied and it waits for the next key
update, so one slow browser never holds back the presenter or the others.
The replay is capped at ``REPLAY_LIMIT`` bytes; past it, late joiners
wait for the presenter's next key update (the presenter client sends one
every few seconds). ``REPLAY_LIMIT`` is half of ``ATTENDEE_BUFFER``, so a
late joiner's queue takes the whole replay and still has room for the
parts that follow it. (Every queue holds the same ``bytes`` objects: the
buffer bounds how far a browser may lag, not memory per attendee.)

A presentation seats at most ``max_presentation_attendees`` attendees,
at most ``max_attendees_per_address`` of them from one client address
(settings); a seat is taken (:meth:`LivePresentation.seat`) before the
attendee is written to the database, so attendees joining at once cannot
overfill it. A representative presents one presentation at a time (per
node: the presentations live in this service's memory).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from supportbox.errors import InvalidInput, NotFound
from supportbox.logs import session_log
from supportbox.presentation import store
from supportbox.recording.feed import ScreenFeed
from supportbox.runtime import Runtime
from supportbox.screen import codec

if TYPE_CHECKING:
    from supportbox.live.connection import Connection

SERVICE = "presentations"

#: Presentation channels are numbered apart from the relay's.
FIRST_CHANNEL = 2**31

REPLAY_LIMIT = 16 * 1024 * 1024
ATTENDEE_BUFFER = 2 * REPLAY_LIMIT


@dataclass
class Attendee:
    gsnumber: int
    name: str
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    queued: int = 0
    waiting_key: bool = False

    def offer(self, part: bytes, starts_key: bool) -> None:
        """Queue a part, or skip ahead to the next key update when behind."""
        if self.waiting_key and not starts_key:
            return
        self.waiting_key = False
        if self.queued + len(part) > ATTENDEE_BUFFER:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queued = 0
            self.waiting_key = not starts_key
            if self.waiting_key:
                return
        self.queued += len(part)
        self.queue.put_nowait(part)

    async def next(self) -> bytes | None:
        """The next part to send, or ``None`` when the presentation ended."""
        part = await self.queue.get()
        if part is not None:
            self.queued -= len(part)
        return part


@dataclass
class LivePresentation:
    lsid: str
    presenter: Connection
    channel: int
    short_key: str
    url_token: str
    feed: ScreenFeed | None
    attendees: dict[int, Attendee] = field(default_factory=dict)
    replay: list[bytes] = field(default_factory=list)
    replay_size: int = 0
    between: bool = True
    size: tuple[int, int] = (0, 0)
    seats: collections.Counter[str] = field(default_factory=collections.Counter)

    def seat(self, address: str, most: int, per_address: int) -> str | None:
        """Take a seat for an attendee at ``address``; else why not."""
        if self.seats.total() >= most:
            return f"the presentation is full ({most} attendees)"
        if self.seats[address] >= per_address:
            return (
                f"too many attendees from your address ({per_address}); "
                "close another window of this presentation first"
            )
        self.seats[address] += 1
        return None

    def unseat(self, address: str) -> None:
        self.seats[address] -= 1
        if self.seats[address] <= 0:
            del self.seats[address]

    def part(self, data: bytes) -> None:
        """One part from the presenter: check it, record it, fan it out."""
        try:
            parsed = codec.decode_part(data)
        except InvalidInput:
            self.between = True  # what follows must start afresh
            raise
        starts_key = parsed.key and self.between
        self.between = parsed.ends_update
        if starts_key:
            self.replay, self.replay_size = [], 0
            self.size = (parsed.width, parsed.height)
        if self.replay or starts_key:
            if self.replay_size + len(data) <= REPLAY_LIMIT:
                self.replay.append(data)
                self.replay_size += len(data)
            else:
                self.replay, self.replay_size = [], 0
        if self.feed is not None:
            self.feed.part(data)
        for attendee in self.attendees.values():
            attendee.offer(data, starts_key)

    def admit(self, attendee: Attendee) -> None:
        """Add an attendee, starting it from the latest key update."""
        if not self.replay:
            attendee.waiting_key = True
        for index, part in enumerate(self.replay):
            attendee.offer(part, index == 0)
        self.attendees[attendee.gsnumber] = attendee


class Presentations:
    """The service ``runtime.services["presentations"]`` of one node."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.live: dict[str, LivePresentation] = {}
        self.stopping = False
        #: user ids of representatives whose presentation is starting
        self.starting: set[int] = set()
        self._numbers = itertools.count(FIRST_CHANNEL)

    def new_channel(self) -> int:
        return next(self._numbers)

    def get(self, lsid: str) -> LivePresentation:
        found = self.live.get(lsid)
        if found is None:
            raise NotFound("the presentation has ended")
        return found

    def presenting(self, user_id: int) -> bool:
        """Whether ``user_id`` presents (or starts to) on this node."""
        return user_id in self.starting or any(
            p.presenter.user_id == user_id for p in self.live.values()
        )

    def on_channel(self, conn: Connection, channel: int) -> LivePresentation | None:
        for presentation in self.live.values():
            if presentation.presenter is conn and presentation.channel == channel:
                return presentation
        return None

    async def end(self, lsid: str) -> None:
        """End a presentation: attendees are told, the recording closes."""
        presentation = self.live.pop(lsid, None)
        if presentation is None:
            return
        for attendee in presentation.attendees.values():
            attendee.queue.put_nowait(None)
        if presentation.feed is not None:
            await presentation.feed.aclose()
        await asyncio.to_thread(self._end, lsid)
        session_log.info("presentation %s ended", lsid)

    def _end(self, lsid: str) -> None:
        with self.runtime.write_db() as db, db.begin():
            store.end(db, lsid)

    async def gone(self, conn: Connection) -> None:
        """The presenter's connection closed: its presentations end."""
        for lsid in [p.lsid for p in self.live.values() if p.presenter is conn]:
            with contextlib.suppress(NotFound):
                await self.end(lsid)

    async def stop(self) -> None:
        """The server stops: every presentation here ends."""
        self.stopping = True
        for lsid in list(self.live):
            await self.end(lsid)


def presentations_of(runtime: Runtime) -> Presentations:
    found: Presentations = runtime.services[SERVICE]
    return found


def install(runtime: Runtime) -> None:
    runtime.services[SERVICE] = Presentations(runtime)
