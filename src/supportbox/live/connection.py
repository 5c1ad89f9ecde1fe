"""One connected client: who it is, what it follows, what it is sent.

A :class:`Connection` follows each session it is in through a broker
subscription (a *membership*). It sends a session's events in ``seq``
order exactly once: a membership remembers the last ``seq`` it sent and
skips anything at or below it, and it reads missed events back from
storage when it attaches and when the broker reports an overflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from supportbox import peers
from supportbox.broker import Broker, Subscription
from supportbox.core import events as ev
from supportbox.core.hub import Hub
from supportbox.core.presence import QUEUES_CHANNEL
from supportbox.directory import sites
from supportbox.live import protocol
from supportbox.live.protocol import Message
from supportbox.live.registry import Registry
from supportbox.logs import session_log
from supportbox.runtime import Runtime

#: Seconds a representative's queue view waits to gather changes.
REFRESH_DELAY = 0.1

#: A message's handler: the ``ok`` body, or None to send no ``ok``.
Handler = Callable[["Connection", Message], Awaitable[dict[str, Any] | None]]
Gone = Callable[["Connection", bool], Awaitable[None]]


@dataclass
class Membership:
    """A session this connection follows, as participant ``gsnumber``."""

    lsid: str
    gsnumber: int
    last_seq: int
    subscription: Subscription
    pump: asyncio.Task[None] | None = None


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        runtime: Runtime,
        registry: Registry,
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.hub: Hub = runtime.services["hub"]
        self.broker: Broker = runtime.services["broker"]
        self.registry = registry
        #: The client's address, for rate limits and logs; ``public_ip`` is
        #: how reports write it (with the port; supportbox.peers).
        self.address = websocket.client.host if websocket.client else "unknown"
        self.public_ip = peers.public_ip(websocket.client)
        self.id = secrets.token_hex(8)

        # set by the role's hello
        self.role: str | None = None
        self.identity = ""
        self.user_id: int | None = None
        self.handlers: dict[str, Handler] = {}
        self.on_gone: Gone | None = None
        self.ticket: str | None = None
        self.queue_updates = True

        self.memberships: dict[str, Membership] = {}
        self.departed: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.refresh_due = False
        self.closing = False
        self._send_lock = asyncio.Lock()

    # sending

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame; after the peer has gone this does nothing."""
        if self.closing:
            return
        text = protocol.encode(frame)
        async with self._send_lock:
            try:
                await self.websocket.send_text(text)
            except Exception:
                # The receive loop notices the close and cleans up.
                self.closing = True

    async def close_socket(self, code: int, reason: str = "") -> None:
        """Close the socket, unless it is closed already.

        A client that says ``bye`` and goes at once (``supportbox customer
        </dev/null``) may be gone before the last reply to it was sent;
        that send closed the socket on this side too.
        """
        self.closing = True
        async with self._send_lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                return
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.websocket.close(code, reason)

    async def send_bytes(self, frame: bytes) -> None:
        """Send one binary frame (shell and file data); as :meth:`send`."""
        if self.closing:
            return
        async with self._send_lock:
            try:
                await self.websocket.send_bytes(frame)
            except Exception:
                self.closing = True

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            session_log.error(
                "live connection %s: background work failed",
                self.id,
                exc_info=task.exception(),
            )

    # sessions followed

    async def attach(self, lsid: str, gsnumber: int, after_seq: int) -> None:
        """Follow ``lsid``: ``joined``, events after ``after_seq``, then live ones."""
        # Records that the participant is connected, through this node.
        await self.hub.connection(lsid, gsnumber, True, self.public_ip)
        subscription = self.broker.subscribe(f"session:{lsid}")
        # Across nodes (Redis) a subscription takes a moment to start;
        # storage is read only after it has, so nothing falls in between.
        await subscription.ready()
        membership = Membership(lsid, gsnumber, after_seq, subscription)
        self.memberships[lsid] = membership
        self.departed.pop(lsid, None)
        await subscription.ready()
        await self.send({"type": "joined", "lsid": lsid, "gsnumber": gsnumber})
        await self._catch_up(membership)
        if self.memberships.get(lsid) is membership:
            membership.pump = asyncio.get_running_loop().create_task(
                self._pump(membership)
            )

    def detach(self, lsid: str) -> None:
        membership = self.memberships.pop(lsid, None)
        if membership is None:
            return
        membership.subscription.close()
        self.departed[lsid] = membership.gsnumber
        if (
            membership.pump is not None
            and membership.pump is not asyncio.current_task()
        ):
            membership.pump.cancel()
        relay = self.runtime.services.get("streams")
        if relay is not None and not self.closing:
            # Its shells, transfers and screens of the session end too.
            self.spawn(relay.left(self, lsid))

    async def _catch_up(self, membership: Membership) -> None:
        for event in await self.hub.events_since(membership.lsid, membership.last_seq):
            rep_only = event.event_type in ev.REP_ONLY
            await self._deliver(membership, event.as_message(), rep_only)
            if self.memberships.get(membership.lsid) is not membership:
                return

    async def _pump(self, membership: Membership) -> None:
        try:
            while self.memberships.get(membership.lsid) is membership:
                message = await membership.subscription.get()
                if message.get("type") == "overflow":
                    await self._catch_up(membership)
                elif message.get("type") == "event":
                    if message["event"]["seq"] > membership.last_seq + 1:
                        # An earlier event is still on its way (another
                        # batch or node announced this one first): what is
                        # missing is read from storage, in order.
                        await self._catch_up(membership)
                    await self._deliver(
                        membership, message["event"], bool(message.get("rep_only"))
                    )
        except asyncio.CancelledError:
            pass
        except Exception:
            session_log.exception("live connection %s: session pump failed", self.id)

    async def _deliver(
        self, membership: Membership, event: dict[str, Any], rep_only: bool
    ) -> None:
        if event["seq"] <= membership.last_seq:
            return
        membership.last_seq = event["seq"]
        lsid = membership.lsid
        if not (rep_only and self.role == protocol.CUSTOMER):
            await self.send({"type": "event", "lsid": lsid, "event": event})

        kind = event["event_type"]
        if self.role == protocol.CUSTOMER and kind == ev.SESSION_END:
            self.detach(lsid)
            await self.offer_survey(lsid, "customer")
            return
        target = event.get("destination") or {}
        mine = target.get("gsnumber") == membership.gsnumber
        if self.role == protocol.REPRESENTATIVE and kind == ev.MEMBER_DEPARTED and mine:
            # Whatever the same change stored after the departure (the end
            # of the session, a new owner) is sent before letting go.
            for later in await self.hub.events_since(lsid, membership.last_seq):
                membership.last_seq = later.seq
                await self.send(
                    {"type": "event", "lsid": lsid, "event": later.as_message()}
                )
            self.detach(lsid)
            await self.send({"type": "left", "lsid": lsid})
            await self.offer_survey(lsid, "rep")

    async def offer_survey(self, lsid: str, survey: str) -> None:
        def read() -> list[dict[str, Any]]:
            with self.runtime.db() as db:
                return [
                    {
                        "name": q.name,
                        "type": q.type,
                        "label": q.label,
                        "options": list(q.options),
                    }
                    for q in sites.questions(db, survey)
                ]

        questions = await asyncio.to_thread(read)
        await self.send(
            {"type": "survey", "lsid": lsid, "survey": survey, "questions": questions}
        )

    # representatives' queues

    def watch_queues(self, user_id: int) -> None:
        subscription = self.broker.subscribe(QUEUES_CHANNEL, f"rep:{user_id}")
        self.spawn(self._pump_queues(subscription))

    async def _pump_queues(self, subscription: Subscription) -> None:
        try:
            while True:
                message = await subscription.get()
                if message.get("type") == "offer":
                    await self.send(
                        {
                            "type": "offer",
                            "lsid": message["lsid"],
                            "reason": message.get("reason", "routing"),
                            "by": message.get("by", ""),
                        }
                    )
                elif self.queue_updates:
                    self._schedule_refresh()
        finally:
            subscription.close()

    def _schedule_refresh(self) -> None:
        if self.refresh_due:
            return
        self.refresh_due = True
        self.spawn(self._refresh())

    async def _refresh(self) -> None:
        await asyncio.sleep(REFRESH_DELAY)
        self.refresh_due = False
        await self.send(await self.queues_frame())

    async def queues_frame(self) -> dict[str, Any]:
        assert self.user_id is not None
        waiting = await self.hub.waiting_for(self.user_id)
        reps = await asyncio.to_thread(self.hub.logged_in_reps)
        return {
            "type": "queues",
            "waiting": waiting,
            "reps": [
                {
                    "user_id": r.user_id,
                    "username": r.username,
                    "display_name": r.public_display_name,
                    "sessions": r.support_session_count,
                    "status": r.status,
                }
                for r in reps
            ],
        }

    # closing

    async def close(self, deliberate: bool) -> None:
        """Let go of everything; a drop (not ``deliberate``) starts the grace."""
        self.closing = True
        for task in list(self.tasks):
            task.cancel()
        for lsid in list(self.memberships):
            membership = self.memberships[lsid]
            membership.subscription.close()
            if membership.pump is not None:
                membership.pump.cancel()
        self.hub.unregister_client(self.id)
        if self.on_gone is not None:
            await self.on_gone(self, deliberate)
