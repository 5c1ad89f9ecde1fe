"""The sweeper: no session is left hanging by a dead node or a lost client.

Every node beats its heart into the ``node`` table. Every few seconds each
node's sweeper

1. marks the participants connected through a node that stopped beating
   as disconnected (their clients reconnect to another node), and
2. makes participants who stayed disconnected longer than the resume grace
   period leave: a representative's session returns to its queue, a
   customer's ends.

Both steps go through the hub, so they are stored and announced like any
other change; several sweepers doing the same work is harmless because
the hub refuses a second leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable

from sqlalchemy import delete, select

from supportbox.core.hub import Hub
from supportbox.errors import NotFound, SessionStateError
from supportbox.logs import log, session_log
from supportbox.runtime import Runtime
from supportbox.storage.models import Node, Participant, RepPresence, SupportSession

#: A node that has not beaten for this many intervals is taken for dead.
MISSED_BEATS = 3


class Sweeper:
    def __init__(self, runtime: Runtime, hub: Hub, interval: float = 5.0) -> None:
        self.runtime = runtime
        self.hub = hub
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self._beat)
        self._task = asyncio.create_task(self._run(), name="sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.to_thread(self._forget_self)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeper: a sweep failed; trying again later")

    async def sweep(self) -> None:
        """One round: heartbeat, then orphaned and overdue participants."""
        await asyncio.to_thread(self._beat)
        orphans, overdue = await asyncio.to_thread(self._find)
        for lsid, gsnumber in orphans:
            await self._quietly(self.hub.connection(lsid, gsnumber, False))
        for lsid, gsnumber in overdue:
            session_log.info("participant %s of %s did not come back", gsnumber, lsid)
            await self._quietly(self.hub.leave(lsid, gsnumber))

    async def _quietly(self, change: Awaitable[None]) -> None:
        # Another node, or the client itself, may have got there first.
        with contextlib.suppress(SessionStateError, NotFound):
            await change

    def _beat(self) -> None:
        now = time.time()
        with self.runtime.write_db() as db, db.begin():
            node = db.get(Node, self.runtime.node_id)
            if node is None:
                node = Node(
                    id=self.runtime.node_id,
                    hostname=socket.gethostname(),
                    started_at=now,
                    last_seen=now,
                )
                db.add(node)
            node.last_seen = now

    def _forget_self(self) -> None:
        with self.runtime.write_db() as db, db.begin():
            db.execute(delete(Node).where(Node.id == self.runtime.node_id))

    def _find(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        now = time.time()
        dead_before = now - self.interval * MISSED_BEATS
        grace_before = now - self.runtime.settings.resume_grace
        with self.runtime.write_db() as db, db.begin():
            alive = select(Node.id).where(Node.last_seen >= dead_before)
            open_sessions = SupportSession.status != "ended"
            base = (
                select(SupportSession.lsid, Participant.gsnumber)
                .join(SupportSession, SupportSession.id == Participant.session_id)
                .where(open_sessions, Participant.present.is_(True))
            )
            orphans = db.execute(
                base.where(
                    Participant.node_id.is_not(None),
                    Participant.node_id.not_in(alive),
                )
            ).all()
            overdue = db.execute(
                base.where(
                    Participant.connected.is_(False),
                    Participant.disconnected_at < grace_before,
                )
            ).all()
            db.execute(
                delete(RepPresence).where(
                    RepPresence.node_id.is_not(None),
                    RepPresence.node_id.not_in(alive),
                )
            )
            db.execute(delete(Node).where(Node.last_seen < dead_before))
        return (
            [(lsid, gs) for lsid, gs in orphans],
            [(lsid, gs) for lsid, gs in overdue],
        )
