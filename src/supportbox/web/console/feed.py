"""One console connection's live feed: queues, offers and its sessions' events.

The feed follows the broker channels ``queues`` and ``rep:<user id>``,
and ``session:<lsid>`` for every open session the representative is in.
It sends the console JSON messages:

* ``{"type": "queues", "waiting": [...], "mine": [...]}`` — whenever a
  waiting list or the representative's own sessions change;
* ``{"type": "event", "lsid": ..., "event": {...}}`` — one session event,
  with its ``seq``; on following a session it first sends everything
  since ``seq`` 0, so the console deduplicates by ``seq``;
* ``{"type": "offer", "lsid": ...}`` — least-busy routing offers a session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from supportbox.broker import Broker, Subscription
from supportbox.core import events as ev
from supportbox.core.hub import QUEUES_CHANNEL, Hub
from supportbox.runtime import Runtime
from supportbox.web.console import views

Send = Callable[[dict[str, Any]], Awaitable[None]]

#: Events after which the representative's own sessions may have changed.
MEMBERSHIP = {
    ev.MEMBER_ADDED,
    ev.MEMBER_DEPARTED,
    ev.SESSION_END,
    ev.OWNER_CHANGED,
    ev.EXTERNAL_KEY,
}


class Feed:
    def __init__(self, runtime: Runtime, user_id: int, send: Send) -> None:
        self.runtime = runtime
        self.user_id = user_id
        self.send = send
        self.hub: Hub = runtime.services["hub"]
        self.broker: Broker = runtime.services["broker"]
        self.inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.following: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}

    async def run(self) -> None:
        """Send until cancelled; every subscription is closed on the way out."""
        base = self.broker.subscribe(QUEUES_CHANNEL, f"rep:{self.user_id}")
        pump = asyncio.create_task(self._pump("", base))
        try:
            await self._refresh()
            while True:
                lsid, message = await self.inbox.get()
                await self._handle(lsid, message)
        finally:
            pump.cancel()
            base.close()
            for lsid in list(self.following):
                self._unfollow(lsid)

    async def _pump(self, lsid: str, subscription: Subscription) -> None:
        while True:
            message = await subscription.get()
            await self.inbox.put((lsid, message))

    async def _handle(self, lsid: str, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "offer":
            await self.send({"type": "offer", "lsid": message.get("lsid")})
        if kind == "overflow" and lsid:
            await self._catch_up(lsid)
            return
        if kind == "event" and lsid:
            await self.send({"type": "event", "lsid": lsid, "event": message["event"]})
            if message["event"].get("event_type") not in MEMBERSHIP:
                return
        await self._refresh()

    async def _refresh(self) -> None:
        """Send the queues and follow exactly the sessions the rep is in."""

        def read() -> list[dict[str, Any]]:
            with self.runtime.db() as db:
                return views.my_sessions(db, self.user_id)

        mine = await asyncio.to_thread(read)
        waiting = await self.hub.waiting_for(self.user_id)
        await self.send({"type": "queues", "waiting": waiting, "mine": mine})
        current = {item["lsid"] for item in mine}
        for lsid in list(self.following):
            if lsid not in current:
                self._unfollow(lsid)
        for lsid in current - set(self.following):
            subscription = self.broker.subscribe(f"session:{lsid}")
            task = asyncio.create_task(self._pump(lsid, subscription))
            self.following[lsid] = (subscription, task)
            await self._catch_up(lsid)

    async def _catch_up(self, lsid: str) -> None:
        for event in await self.hub.events_since(lsid, 0):
            await self.send(
                {"type": "event", "lsid": lsid, "event": event.as_message()}
            )

    def _unfollow(self, lsid: str) -> None:
        subscription, task = self.following.pop(lsid)
        task.cancel()
        with contextlib.suppress(Exception):
            subscription.close()
