"""The hub applies session rules to stored sessions and announces the results.

Every change to a session follows one path: in a worker thread, lock the
session row, load its state, call one method of
:class:`~supportbox.core.session.SessionState`, store the state and the
events it returned, let the observers add their rows, commit; then, back
on the event loop, publish the events on the broker channel
``session:<lsid>``. Because the stored events carry a per-session ``seq``,
a client that missed messages reads them back with :meth:`Hub.events_since`.

Channels: ``session:<lsid>`` (events of a session), ``queues`` (some
waiting list changed), ``rep:<user id>`` (offers for one representative).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.broker import Broker
from supportbox.core import events as ev
from supportbox.core.batch import EventWriter
from supportbox.core.events import Actor, Event
from supportbox.core.looplock import LoopLock
from supportbox.core.presence import (
    QUEUES_CHANNEL,
    ConnectedClient,
    Presence,
)
from supportbox.core.queues import QueueRef
from supportbox.core.session import Member, SessionState
from supportbox.directory import users
from supportbox.errors import (
    NotFound,
    PermissionDenied,
    SessionStateError,
)
from supportbox.logs import session_log
from supportbox.runtime import Runtime
from supportbox.storage import sessions as store
from supportbox.storage.models import (
    Participant,
    RepPresence,
    SupportSession,
    SurveyResponse,
    Team,
    User,
)

T = TypeVar("T")


@dataclass
class CustomerInfo:
    name: str = ""
    company: str = ""
    company_code: str = ""
    details: str = ""
    issue: str = ""
    hostname: str = "Unknown"
    os: str = "Unknown"
    username: str = ""
    private_ip: str = "Unknown"
    public_ip: str = "Unknown"


@dataclass
class SessionRequest:
    queue: QueueRef
    customer: CustomerInfo
    site_id: int | None = None
    issue_id: int | None = None
    external_key: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    priority: int = 2
    start_method: str = "issue"


@dataclass(frozen=True)
class OpenedSession:
    lsid: str
    customer_gs: int
    join_token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def queue_name(db: Session, queue: QueueRef) -> str:
    """The display name of a queue, as reports show it."""
    if queue.kind == "general":
        return "General Queue"
    if queue.kind == "rep":
        user = db.get(User, queue.ref)
        if user is None:
            raise NotFound(f"no representative with id {queue.ref}")
        return user.public_display_name
    team = db.get(Team, queue.ref)
    if team is None:
        raise NotFound(f"no team with id {queue.ref}")
    return team.name


class Hub(Presence):
    """Live sessions of this node, backed by the shared database."""

    def __init__(self, runtime: Runtime, broker: Broker) -> None:
        self.runtime = runtime
        self.broker = broker
        self.clients: dict[str, ConnectedClient] = {}
        self.events = EventWriter(runtime, self._announce_events, self._write_turn)
        self._turn = LoopLock()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.events.stop()

    # the one path every change takes

    async def _change(
        self,
        lsid: str,
        change: Callable[[SessionState, Session], tuple[T, list[Event]]],
        *,
        members: bool = True,
    ) -> T:
        """Apply ``change``; ``members=False`` if it changes only the events.

        Changes of the second kind are written many to a transaction
        (core/batch.py) and must leave ``state`` as it is.
        """
        if not members:
            return await self.events.write(lsid, change)
        async with self._write_turn():
            result, events, before, after = await asyncio.to_thread(
                self._change_sync, lsid, change
            )
        await self._announce(lsid, events, before, after)
        return result

    def _write_turn(self) -> contextlib.AbstractAsyncContextManager[Any]:
        # SQLite takes one writer at a time and makes the others poll for
        # the lock with growing sleeps; queueing them here instead keeps
        # the wait short and fair (docs/performance.md).
        if self.runtime.engine.dialect.name != "sqlite":
            return contextlib.nullcontext()
        return self._turn.get()

    def _change_sync(
        self,
        lsid: str,
        change: Callable[[SessionState, Session], tuple[T, list[Event]]],
    ) -> tuple[T, list[Event], tuple[str, str], tuple[str, str]]:
        with self.runtime.write_db() as db, db.begin():
            row = store.lock(db, lsid)
            state = store.load_state(db, row)
            before = (state.status, str(state.queue))
            result, new_events = change(state, db)
            store.save_state(db, row, state, new_events)
            for observer in self.runtime.observers:
                observer.on_events(db, lsid, state.external_key, new_events)
            after = (state.status, str(state.queue))
        return result, new_events, before, after

    async def _announce(
        self,
        lsid: str,
        events: list[Event],
        before: tuple[str, str],
        after: tuple[str, str],
    ) -> None:
        await self._announce_events(lsid, events)
        if "waiting" in (before[0], after[0]) and before != after:
            await self.broker.publish(QUEUES_CHANNEL, {"type": "queues_changed"})
            if after[0] == "waiting":
                await self._offer(lsid, QueueRef.parse(after[1]))

    async def _announce_events(self, lsid: str, events: list[Event]) -> None:
        channel = f"session:{lsid}"
        for event in events:
            await self.broker.publish(
                channel,
                {
                    "type": "event",
                    "lsid": lsid,
                    "rep_only": event.event_type in ev.REP_ONLY,
                    "event": event.as_message(),
                },
            )

    # customers

    async def open_session(self, request: SessionRequest) -> OpenedSession:
        """Create a waiting session for a customer's request."""
        opened, events = await asyncio.to_thread(self._open_sync, request)
        await self._announce(
            opened.lsid, events, ("new", ""), ("waiting", str(request.queue))
        )
        session_log.info("session %s opened in %s", opened.lsid, request.queue)
        return opened

    def _open_sync(self, request: SessionRequest) -> tuple[OpenedSession, list[Event]]:
        info = request.customer
        token = ids.new_token()
        with self.runtime.write_db() as db, db.begin():
            state = SessionState(
                lsid=ids.new_lsid(),
                queue=request.queue,
                queue_name=queue_name(db, request.queue),
                external_key=request.external_key,
                custom=dict(request.custom),
                priority=request.priority,
            )
            customer = Member(
                gsnumber=0,
                kind=ev.CUSTOMER,
                name=info.name or "Customer",
                username=info.username,
                hostname=info.hostname,
                os=info.os,
                private_ip=info.private_ip,
                public_ip=info.public_ip,
                info={
                    "name": info.name,
                    "company": info.company,
                    "company_code": info.company_code,
                    "issue": info.issue,
                    "details": info.details,
                },
            )
            events = state.start(customer)
            row = SupportSession(
                lsid=state.lsid,
                public_site_id=request.site_id,
                start_time=events[0].timestamp,
                issue_id=request.issue_id,
                start_method=request.start_method,
                priority=request.priority,
            )
            db.add(row)
            db.flush()
            store.save_state(db, row, state, events)
            participant = db.scalar(
                select(Participant).where(
                    Participant.session_id == row.id,
                    Participant.gsnumber == customer.gsnumber,
                )
            )
            assert participant is not None
            participant.token_hash = hash_token(token)
            for observer in self.runtime.observers:
                observer.on_events(db, state.lsid, state.external_key, events)
        return OpenedSession(state.lsid, customer.gsnumber, token), events

    async def authenticate(self, lsid: str, token: str) -> tuple[int, str]:
        """The gsnumber whose token this is, and the token that replaces it.

        A token works once. Using it up and storing the next one are one
        transaction, so there is no moment in which the participant has
        no valid token.
        """
        return await asyncio.to_thread(self._authenticate_sync, lsid, token)

    def _authenticate_sync(self, lsid: str, token: str) -> tuple[int, str]:
        with self.runtime.write_db() as db, db.begin():
            row = store.get(db, lsid)
            # Locked, so that of two connections with the same token only
            # one finds it (PostgreSQL reads the row again after the wait).
            participant = db.scalar(
                select(Participant)
                .where(
                    Participant.session_id == row.id,
                    Participant.token_hash == hash_token(token),
                )
                .with_for_update()
            )
            if participant is None or row.status == "ended":
                raise PermissionDenied("the join token is not valid for this session")
            following = ids.new_token()
            participant.token_hash = hash_token(following)
            return participant.gsnumber, following

    # representatives joining and leaving

    def _rep_member(self, db: Session, user_id: int) -> Member:
        user = users.get_by_id(db, user_id)
        if not user.enabled or not user.perm_support:
            raise PermissionDenied(f"{user.username} may not provide support")
        presence = db.get(RepPresence, user_id)
        return Member(
            gsnumber=0,
            kind=ev.REPRESENTATIVE,
            name=user.public_display_name,
            user_id=user.id,
            username=user.username,
            private_name=user.private_display_name,
            teams=[m.team.name for m in user.memberships],
            hostname=presence.hostname if presence else "Unknown",
            os=presence.os if presence else "Unknown",
            public_ip=presence.public_ip if presence else "Unknown",
        )

    async def accept(self, lsid: str, user_id: int) -> int:
        """The representative takes the waiting session; returns their gsnumber."""

        def change(state: SessionState, db: Session) -> tuple[int, list[Event]]:
            self._check_can_see(db, state, user_id)
            rep = self._rep_member(db, user_id)
            events = state.accept(rep)
            return rep.gsnumber, events

        gs = await self._change(lsid, change)
        session_log.info("session %s accepted by user %s", lsid, user_id)
        return gs

    def _check_can_see(self, db: Session, state: SessionState, user_id: int) -> None:
        if state.queue not in store.visible_queues(db, user_id):
            raise PermissionDenied("that session is not in one of your queues")

    async def join(self, lsid: str, user_id: int, *, invited: bool = False) -> int:
        def change(state: SessionState, db: Session) -> tuple[int, list[Event]]:
            rep = self._rep_member(db, user_id)
            events = state.join(rep, invited=invited)
            return rep.gsnumber, events

        return await self._change(lsid, change)

    async def leave(self, lsid: str, gsnumber: int) -> None:
        await self._change(lsid, lambda state, _db: (None, state.leave(gsnumber)))

    async def leave_user(self, lsid: str, user_id: int) -> None:
        def change(state: SessionState, _db: Session) -> tuple[None, list[Event]]:
            gs = state.rep_gs(user_id)
            if gs is None:
                raise SessionStateError(f"user {user_id} is not in session {lsid}")
            return None, state.leave(gs)

        await self._change(lsid, change)

    async def transfer(self, lsid: str, queue: QueueRef, by_gs: int = 0) -> None:
        def change(state: SessionState, db: Session) -> tuple[None, list[Event]]:
            return None, state.transfer(queue, queue_name(db, queue), by_gs)

        await self._change(lsid, change)

    async def end(self, lsid: str, by_gs: int = 0) -> None:
        await self._change(lsid, lambda state, _db: (None, state.end(by_gs)))
        session_log.info("session %s ended", lsid)

    async def connection(
        self, lsid: str, gsnumber: int, connected: bool, public_ip: str = ""
    ) -> None:
        """A participant's connection to this node opened (from
        ``public_ip``, if given) or dropped.

        The sweeper of any node uses what is stored here to notice
        participants of dead nodes and those who never came back.
        """

        def change(state: SessionState, db: Session) -> tuple[None, list[Event]]:
            event = state.connection(gsnumber, connected, public_ip)
            row = store.participant(db, lsid, gsnumber)
            row.node_id = self.runtime.node_id if connected else None
            row.disconnected_at = None if connected else time.time()
            return None, [] if event is None else [event]

        await self._change(lsid, change)

    # conversation

    async def chat(
        self, lsid: str, from_gs: int, body: str, *, actor: Actor | None = None
    ) -> Event:
        def change(state: SessionState, _db: Session) -> tuple[Event, list[Event]]:
            event = state.chat(from_gs, body, actor)
            return event, [event]

        return await self._change(lsid, change, members=False)

    async def set_custom(
        self, lsid: str, values: dict[str, str], by_gs: int = 0
    ) -> None:
        await self._change(
            lsid, lambda state, _db: (None, state.set_custom(values, by_gs))
        )

    async def add_note(self, lsid: str, by_gs: int, text: str) -> None:
        await self._change(
            lsid, lambda state, _db: (None, [state.note(by_gs, text)]), members=False
        )

    async def system_information(
        self, lsid: str, gsnumber: int, categories: list[dict[str, Any]]
    ) -> None:
        def change(state: SessionState, _db: Session) -> tuple[None, list[Event]]:
            return None, [state.system_information(gsnumber, categories)]

        await self._change(lsid, change)

    async def submit_survey(
        self, lsid: str, gsnumber: int, answers: dict[str, str]
    ) -> None:
        """Store an exit survey; each participant answers at most once."""

        def change(state: SessionState, db: Session) -> tuple[None, list[Event]]:
            row = store.get(db, lsid)
            kind = "customer" if state.member(gsnumber).kind == ev.CUSTOMER else "rep"
            taken = db.scalar(
                select(SurveyResponse.id).where(
                    SurveyResponse.session_id == row.id,
                    SurveyResponse.gsnumber == gsnumber,
                )
            )
            if taken is not None:
                raise SessionStateError("this exit survey was already answered")
            event = state.survey(gsnumber, answers)
            db.add(
                SurveyResponse(
                    session_id=row.id,
                    survey=kind,
                    gsnumber=gsnumber,
                    submitted_at=event.timestamp,
                    answers=dict(answers),
                )
            )
            return None, [event]

        await self._change(lsid, change)

    async def record(
        self,
        lsid: str,
        event_type: str,
        by_gs: int,
        *,
        filename: str | None = None,
        filesize: int | None = None,
        data: list[tuple[str, str]] | None = None,
    ) -> Event:
        """Store one event performed by ``by_gs`` (a shell opened, a file sent).

        A completed ``File Upload`` or ``File Download`` also counts in the
        session's ``file_transfer_count``.
        """

        def change(state: SessionState, db: Session) -> tuple[Event, list[Event]]:
            if state.status == "ended":
                raise SessionStateError(f"session {lsid} has ended")
            event = Event(
                event_type,
                performed_by=state.actor(by_gs),
                filename=filename,
                filesize=filesize,
                data=list(data or []),
            )
            if event_type in (ev.FILE_UPLOAD, ev.FILE_DOWNLOAD):
                store.get(db, lsid).file_transfer_count += 1
            return event, [event]

        return await self._change(lsid, change)

    # reading

    async def events_since(self, lsid: str, after_seq: int) -> list[Event]:
        def read() -> list[Event]:
            with self.runtime.db() as db:
                return store.events_since(db, lsid, after_seq)

        return await asyncio.to_thread(read)

    async def state(self, lsid: str) -> SessionState:
        def read() -> SessionState:
            with self.runtime.db() as db:
                return store.load_state(db, store.get(db, lsid))

        return await asyncio.to_thread(read)

    def session_custom(self, lsid: str) -> tuple[str, dict[str, str]]:
        with self.runtime.db() as db:
            row = store.get(db, lsid)
            return row.external_key, dict(row.custom)

    async def waiting_for(self, user_id: int) -> list[dict[str, Any]]:
        """The waiting sessions a representative sees, oldest first."""

        def read() -> list[dict[str, Any]]:
            with self.runtime.db() as db:
                queues = store.visible_queues(db, user_id)
                result = []
                for row in store.waiting_in(db, queues):
                    customer = db.scalar(
                        select(Participant).where(
                            Participant.session_id == row.id,
                            Participant.is_primary.is_(True),
                            Participant.kind == ev.CUSTOMER,
                        )
                    )
                    info = customer.info if customer else {}
                    result.append(
                        {
                            "lsid": row.lsid,
                            "queue": str(QueueRef(row.queue_kind, row.queue_ref)),
                            "queue_name": row.queue_name,
                            "customer": customer.name if customer else "",
                            "company": info.get("company", ""),
                            "issue": info.get("issue", ""),
                            "details": info.get("details", ""),
                            "external_key": row.external_key,
                            "waiting_since": row.start_time,
                            "priority": row.priority,
                        }
                    )
                return result

        return await asyncio.to_thread(read)
