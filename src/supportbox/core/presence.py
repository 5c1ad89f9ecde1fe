"""Who is here: logged-in representatives, connected clients, routing offers.

:class:`Presence` is the part of the hub that knows about people rather
than sessions. Representatives' presence lives in the ``rep_presence``
table, shared by every node; the connected-client registry is this
node's own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import select

from supportbox.broker import Broker
from supportbox.core import events as ev
from supportbox.core.queues import QueueRef
from supportbox.runtime import Runtime
from supportbox.storage import sessions as store
from supportbox.storage.models import (
    Participant,
    RepPresence,
    SupportSession,
    Team,
    User,
)

QUEUES_CHANNEL = "queues"


@dataclass(frozen=True)
class ClientInfo:
    hostname: str = "Unknown"
    os: str = "Unknown"
    public_ip: str = "Unknown"
    private_ip: str = "Unknown"


@dataclass(frozen=True)
class RepPresenceView:
    user_id: int
    username: str
    public_display_name: str
    private_display_name: str
    logged_in_since: float
    showing_on_rep_list: bool
    support_session_count: int
    status: str


@dataclass
class ConnectedClient:
    id: str
    type: str  # representative, support_customer
    hostname: str
    os: str
    connected_since: float
    lsid: str | None = None
    user_id: int | None = None
    public_ip: str = "Unknown"


class Presence:
    """Presence and routing; mixed into :class:`~supportbox.core.hub.Hub`."""

    runtime: Runtime
    broker: Broker
    clients: dict[str, ConnectedClient]

    async def held_by(self, user_id: int) -> dict[str, int]:
        """The open sessions the representative is in: lsid to gsnumber.

        A representative whose node died logs in again on another one and
        takes these up, within the resume grace period.
        """

        def read() -> dict[str, int]:
            with self.runtime.db() as db:
                rows = db.execute(
                    select(SupportSession.lsid, Participant.gsnumber)
                    .join(Participant, Participant.session_id == SupportSession.id)
                    .where(
                        Participant.user_id == user_id,
                        Participant.kind == ev.REPRESENTATIVE,
                        Participant.present.is_(True),
                        SupportSession.status != "ended",
                    )
                )
                return {lsid: gs for lsid, gs in rows}

        return await asyncio.to_thread(read)

    # presence and routing

    async def rep_online(
        self, user_id: int, *, client: ClientInfo | None = None
    ) -> None:
        client = client or ClientInfo()

        def write() -> None:
            now = time.time()
            with self.runtime.write_db() as db, db.begin():
                presence = db.get(RepPresence, user_id, with_for_update=True)
                if presence is None:
                    presence = RepPresence(
                        user_id=user_id, logged_in_since=now, connections=0
                    )
                    db.add(presence)
                presence.connections += 1
                presence.last_seen = now
                presence.node_id = self.runtime.node_id
                presence.hostname, presence.os = client.hostname, client.os
                presence.public_ip = client.public_ip

        await asyncio.to_thread(write)
        await self.broker.publish(QUEUES_CHANNEL, {"type": "presence_changed"})

    async def rep_offline(self, user_id: int) -> None:
        def write() -> None:
            with self.runtime.write_db() as db, db.begin():
                presence = db.get(RepPresence, user_id, with_for_update=True)
                if presence is None:
                    return
                presence.connections -= 1
                if presence.connections <= 0:
                    db.delete(presence)

        await asyncio.to_thread(write)
        await self.broker.publish(QUEUES_CHANNEL, {"type": "presence_changed"})

    def logged_in_reps(self) -> list[RepPresenceView]:
        with self.runtime.db() as db:
            counts = store.active_session_counts(db)
            rows = db.execute(
                select(RepPresence, User)
                .join(User, User.id == RepPresence.user_id)
                .order_by(User.id)
            )
            return [
                RepPresenceView(
                    user_id=user.id,
                    username=user.username,
                    public_display_name=user.public_display_name,
                    private_display_name=user.private_display_name,
                    logged_in_since=presence.logged_in_since,
                    showing_on_rep_list=user.show_on_rep_list and user.perm_support,
                    support_session_count=counts.get(user.id, 0),
                    status=presence.status,
                )
                for presence, user in rows
            ]

    async def _offer(self, lsid: str, queue: QueueRef) -> None:
        """Offer a session entering a least-busy team's queue to one member."""
        if queue.kind != "team":
            return

        def pick() -> int | None:
            with self.runtime.db() as db:
                team = db.get(Team, queue.ref)
                if team is None or team.routing != "least_busy":
                    return None
                online = {p.user_id for p in db.scalars(select(RepPresence))}
                members = [m.user_id for m in team.members if m.user_id in online]
                if not members:
                    return None
                counts = store.active_session_counts(db)
                return min(members, key=lambda uid: (counts.get(uid, 0), uid))

        user_id = await asyncio.to_thread(pick)
        if user_id is not None:
            await self.broker.publish(f"rep:{user_id}", {"type": "offer", "lsid": lsid})

    # connected clients of this node

    def register_client(self, client: ConnectedClient) -> None:
        self.clients[client.id] = client

    def unregister_client(self, client_id: str) -> None:
        self.clients.pop(client_id, None)

    def connected_clients(self) -> list[ConnectedClient]:
        return list(self.clients.values())
