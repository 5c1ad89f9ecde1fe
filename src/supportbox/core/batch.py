"""Changes that only add events, written many to a transaction.

A chat line or a session note adds an event and leaves the session and
its participants as they were; on a busy server such lines are most of
what is written. :class:`EventWriter` queues them, and one writer at a
time (per process, on any database) takes everything queued and writes
it in a single transaction: one commit for many lines is what keeps
chat latency flat under load.

Within a batch each change still sees its session as stored (all the
batch's session rows locked and their states read up front, in lsid
order, so two nodes writing batches that share sessions cannot
deadlock), and a change its session refuses fails alone. Changes run in
the order they came in, and must not change the state they are given
(changes of one session in a batch share it); their events are numbered
as they go and inserted together, then the observers see them, in the
same transaction. After the commit every change's events are announced,
in order, and only then is its caller answered. Announcements of two
batches (or two nodes) may still reach a subscriber out of order; the
live connections fill such a gap from storage (live/connection.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from supportbox.core.events import Event
from supportbox.core.looplock import LoopLock
from supportbox.core.session import SessionState
from supportbox.errors import NotFound, StorageError, SupportboxError
from supportbox.logs import session_log
from supportbox.runtime import Runtime
from supportbox.storage import sessions as store

T = TypeVar("T")

#: The most changes written in one transaction; what is queued beyond them
#: waits for the next (the sessions' lsids go in one IN list, and
#: databases cap how many parameters a statement takes).
MAX_BATCH = 1000

Change = Callable[[SessionState, Session], tuple[T, list[Event]]]
Announce = Callable[[str, list[Event]], Awaitable[None]]
Turn = Callable[[], contextlib.AbstractAsyncContextManager[Any]]
Outcome = tuple[Any, list[Event]] | SupportboxError


@dataclass(frozen=True)
class Pending:
    """A change waiting for the next batch, and its caller's answer."""

    lsid: str
    change: Change[Any]
    done: asyncio.Future[Any]


class EventWriter:
    def __init__(self, runtime: Runtime, announce: Announce, turn: Turn) -> None:
        self.runtime = runtime
        self._announce = announce
        self._turn = turn
        self._pending: list[Pending] = []
        self._writers: set[asyncio.Task[None]] = set()
        # One batch is written at a time: what arrives meanwhile waits
        # and goes in the next.
        self._one_at_a_time = LoopLock()

    async def write(self, lsid: str, change: Change[T]) -> T:
        """Apply ``change`` in the next batch; its result, or its error."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(Pending(lsid, change, done))
        if len(self._pending) == 1:
            self._start_writer()
        return await done

    def _start_writer(self) -> None:
        writer = asyncio.create_task(self._drain())
        self._writers.add(writer)
        writer.add_done_callback(self._writers.discard)

    async def stop(self) -> None:
        """Wait for the batches already started."""
        if self._writers:
            await asyncio.gather(*self._writers, return_exceptions=True)

    async def _drain(self) -> None:
        async with self._one_at_a_time.get(), self._turn():
            batch = self._pending[:MAX_BATCH]
            self._pending = self._pending[MAX_BATCH:]
            if self._pending:
                self._start_writer()
            try:
                outcomes = await asyncio.to_thread(self._write_sync, batch)
            except Exception as error:
                session_log.exception("writing %d chat lines failed", len(batch))
                outcomes = [StorageError(f"the change was not stored: {error}")]
                outcomes *= len(batch)
            except BaseException:
                for item in batch:
                    _answer(item, StorageError("the server is stopping"))
                raise
        for item, outcome in zip(batch, outcomes, strict=True):
            if not isinstance(outcome, SupportboxError):
                try:
                    await self._announce(item.lsid, outcome[1])
                except Exception:
                    session_log.exception("announcing to %s failed", item.lsid)
            _answer(item, outcome)

    def _write_sync(self, batch: list[Pending]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        numbered: list[tuple[store.Head, list[Event]]] = []
        observed: list[tuple[str, str, list[Event]]] = []
        with self.runtime.write_db() as db, db.begin():
            found = store.lock_for_events(db, {item.lsid for item in batch})
            for item in batch:
                try:
                    if item.lsid not in found:
                        raise NotFound(f"no session {item.lsid!r}")
                    head, state = found[item.lsid]
                    result, events = item.change(state, db)
                except SupportboxError as refused:
                    outcomes.append(refused)
                    continue
                store.number_events(head, events)
                numbered.append((head, events))
                observed.append((item.lsid, state.external_key, events))
                outcomes.append((result, events))
            store.add_events(db, numbered)
            for lsid, external_key, events in observed:
                for observer in self.runtime.observers:
                    observer.on_events(db, lsid, external_key, events)
        return outcomes


def _answer(item: Pending, outcome: Outcome) -> None:
    # A caller that stopped waiting (its connection closed) has a
    # cancelled future; the others are answered all the same.
    if item.done.done():
        return
    if isinstance(outcome, SupportboxError):
        item.done.set_exception(outcome)
    else:
        item.done.set_result(outcome[0])
