"""The rules of one support session, as a plain state machine.

A :class:`SessionState` changes only through its methods. Each method
checks that the change is allowed (raising :class:`SessionStateError` or
:class:`InvalidInput` if not), applies it and returns the events to store,
in order. Nothing here touches a database or a socket; the hub loads a
state, calls one method, and stores what it returns.

States: ``waiting`` (in a queue, no representative), ``active`` (a
representative owns it) and ``ended``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from supportbox.core import events as ev
from supportbox.core.events import Actor, Event
from supportbox.core.queues import QueueRef
from supportbox.errors import InvalidInput, NotFound, SessionStateError

WAITING = "waiting"
ACTIVE = "active"
ENDED = "ended"

MAX_CHAT = 10_000
MAX_NOTE = 10_000
MAX_FIELD = 1024
MAX_CUSTOM_TOTAL = 10 * 1024


@dataclass
class Member:
    """A customer or representative connection to the session (a gsnumber)."""

    gsnumber: int
    kind: str  # customer, representative
    name: str
    user_id: int | None = None
    username: str = ""
    private_name: str = ""
    present: bool = True
    connected: bool = True
    invited: bool = False
    is_primary: bool = False
    teams: list[str] = field(default_factory=list)
    public_ip: str = "Unknown"
    private_ip: str = "Unknown"
    hostname: str = "Unknown"
    os: str = "Unknown"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.gsnumber, self.name)

    @property
    def is_rep(self) -> bool:
        return self.kind == ev.REPRESENTATIVE


def check_custom(values: dict[str, str]) -> None:
    """Enforce the limits of spec 3.2 on custom attributes."""
    total = 0
    for name, value in values.items():
        if len(value) > MAX_FIELD:
            raise InvalidInput(f"{name} is longer than {MAX_FIELD} characters")
        total += len(value.encode())
    if total > MAX_CUSTOM_TOTAL:
        raise InvalidInput("custom fields together are larger than 10 KB")


@dataclass
class SessionState:
    lsid: str
    queue: QueueRef
    queue_name: str
    status: str = WAITING
    owner_gs: int | None = None
    members: dict[int, Member] = field(default_factory=dict)
    next_gs: int = 1
    external_key: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    priority: int = 2

    # lookups

    def member(self, gsnumber: int) -> Member:
        member = self.members.get(gsnumber)
        if member is None:
            raise NotFound(f"no participant {gsnumber} in session {self.lsid}")
        return member

    def present_reps(self) -> list[Member]:
        return [m for m in self.members.values() if m.is_rep and m.present]

    def rep_gs(self, user_id: int) -> int | None:
        """The gsnumber of ``user_id`` if they are in the session now."""
        for member in self.present_reps():
            if member.user_id == user_id:
                return member.gsnumber
        return None

    def primary_customer(self) -> Member | None:
        for member in self.members.values():
            if member.kind == ev.CUSTOMER and member.is_primary:
                return member
        return None

    def actor(self, gsnumber: int) -> Actor:
        return Actor.system() if gsnumber == 0 else self.member(gsnumber).actor

    def _require_open(self) -> None:
        if self.status == ENDED:
            raise SessionStateError(f"session {self.lsid} has ended")

    def _new_gs(self) -> int:
        number = self.next_gs
        self.next_gs += 1
        return number

    # lifecycle

    def start(self, customer: Member) -> list[Event]:
        """The customer's request arrives: the session waits in its queue."""
        customer.gsnumber = self._new_gs()
        customer.is_primary = True
        self.members[customer.gsnumber] = customer
        pre_start = Actor.system("Pre-start Conference")
        return [
            Event(ev.SESSION_START),
            Event(
                ev.OWNER_CHANGED,
                destination=pre_start,
                data=[("owner", pre_start.name)],
            ),
            Event(
                ev.MEMBER_ADDED,
                destination=customer.actor,
                data=_network_data(customer),
            ),
            self._to_queue_event(Actor.system()),
        ]

    def accept(self, rep: Member) -> list[Event]:
        """A representative takes the waiting session and owns it."""
        self._require_open()
        if self.status != WAITING:
            raise SessionStateError(f"session {self.lsid} was already taken")
        away = Event(
            ev.AWAY_FROM_QUEUE,
            performed_by=None,
            data=[("owner", self.queue_name), ("priority", str(self.priority))],
        )
        return [away, *self._add_rep(rep, owner=True)]

    def join(self, rep: Member, invited: bool = False) -> list[Event]:
        """A representative joins (is invited into) the session."""
        self._require_open()
        if rep.user_id is not None and self.rep_gs(rep.user_id) is not None:
            raise SessionStateError(f"{rep.name} is already in session {self.lsid}")
        rep.invited = invited
        if self.status == WAITING:
            return [
                Event(ev.AWAY_FROM_QUEUE, data=[("owner", self.queue_name)]),
                *self._add_rep(rep, owner=True),
            ]
        return self._add_rep(rep, owner=False)

    def _add_rep(self, rep: Member, owner: bool) -> list[Event]:
        rep.gsnumber = self._new_gs()
        rep.is_primary = not any(m.is_rep for m in self.members.values())
        self.members[rep.gsnumber] = rep
        added = Event(
            ev.MEMBER_ADDED,
            destination=rep.actor,
            data=[
                ("public_name", rep.name),
                ("private_name", rep.private_name or rep.name),
                ("username", rep.username),
                ("user_id", str(rep.user_id)),
                ("support_teams", ", ".join(rep.teams)),
                *_network_data(rep),
            ],
        )
        result = [added]
        if owner:
            self.status = ACTIVE
            self.owner_gs = rep.gsnumber
            result.append(
                Event(
                    ev.OWNER_CHANGED, destination=rep.actor, data=[("owner", rep.name)]
                )
            )
        return result

    def leave(self, gsnumber: int) -> list[Event]:
        """A participant departs; the customer leaving ends the session.

        When the last representative leaves, the session goes back to its
        queue and the customer stays.
        """
        self._require_open()
        member = self.member(gsnumber)
        if not member.present:
            raise SessionStateError(f"{member.name} already left session {self.lsid}")
        if member.kind == ev.CUSTOMER and member.is_primary:
            return self.end(gsnumber)
        member.present = False
        result = [Event(ev.MEMBER_DEPARTED, destination=member.actor)]
        if gsnumber != self.owner_gs:
            return result
        remaining = self.present_reps()
        if remaining:
            heir = remaining[0]
            self.owner_gs = heir.gsnumber
            result.append(
                Event(
                    ev.OWNER_CHANGED,
                    destination=heir.actor,
                    data=[("owner", heir.name)],
                )
            )
            return result
        return result + self._back_to_queue(member.actor)

    def transfer(self, queue: QueueRef, queue_name: str, by_gs: int = 0) -> list[Event]:
        """Move the session to another queue; its representatives depart."""
        self._require_open()
        by = self.actor(by_gs)
        self.queue, self.queue_name = queue, queue_name
        result = [self._to_queue_event(by)]
        for rep in self.present_reps():
            rep.present = False
            result.append(Event(ev.MEMBER_DEPARTED, destination=rep.actor))
        queue_actor = Actor.system(queue_name)
        result.append(
            Event(
                ev.OWNER_CHANGED, destination=queue_actor, data=[("owner", queue_name)]
            )
        )
        self.status, self.owner_gs = WAITING, None
        return result

    def _back_to_queue(self, by: Actor) -> list[Event]:
        self.status, self.owner_gs = WAITING, None
        queue_actor = Actor.system(self.queue_name)
        return [
            Event(
                ev.OWNER_CHANGED,
                destination=queue_actor,
                data=[("owner", self.queue_name)],
            ),
            self._to_queue_event(by),
        ]

    def _to_queue_event(self, by: Actor) -> Event:
        return Event(
            ev.TO_QUEUE,
            performed_by=by,
            data=[("owner", self.queue_name), ("priority", str(self.priority))],
        )

    def end(self, by_gs: int = 0) -> list[Event]:
        """End the session for everyone."""
        self._require_open()
        by = self.actor(by_gs)
        result = []
        for member in self.members.values():
            if member.present:
                member.present = False
                result.append(Event(ev.MEMBER_DEPARTED, destination=member.actor))
        self.status, self.owner_gs = ENDED, None
        result.append(Event(ev.SESSION_END, performed_by=by))
        return result

    # conversation

    def chat(self, from_gs: int, body: str, actor: Actor | None = None) -> Event:
        self._require_open()
        if not body.strip():
            raise InvalidInput("chat message is empty")
        if len(body) > MAX_CHAT:
            raise InvalidInput(f"chat message is longer than {MAX_CHAT} characters")
        sender = actor or self.actor(from_gs)
        if from_gs and not self.member(from_gs).present:
            raise SessionStateError("participant is no longer in the session")
        return Event(
            ev.CHAT_MESSAGE,
            performed_by=sender,
            destination=self._audience(sender),
            body=body,
        )

    def _audience(self, sender: Actor) -> Actor | None:
        if sender.type == ev.CUSTOMER:
            return self.member(self.owner_gs).actor if self.owner_gs else None
        customer = self.primary_customer()
        return customer.actor if customer and customer.present else None

    def note(self, by_gs: int, text: str) -> Event:
        self._require_open()
        if not self.member(by_gs).is_rep:
            raise SessionStateError("only representatives add session notes")
        if not text.strip() or len(text) > MAX_NOTE:
            raise InvalidInput(f"note must have 1 to {MAX_NOTE} characters")
        return Event(ev.NOTE_ADDED, performed_by=self.actor(by_gs), body=text)

    def set_custom(self, values: dict[str, str], by_gs: int = 0) -> list[Event]:
        """Set custom attributes; ``external_key`` among them is recorded."""
        self._require_open()
        merged = {**self.custom, "external_key": self.external_key, **values}
        check_custom(merged)
        result = []
        if "external_key" in values and values["external_key"] != self.external_key:
            self.external_key = values["external_key"]
            result.append(
                Event(
                    ev.EXTERNAL_KEY,
                    performed_by=self.actor(by_gs),
                    data=[("external_key", self.external_key)],
                )
            )
        for name, value in values.items():
            if name == "external_key":
                continue
            if value:
                self.custom[name] = value
            else:
                self.custom.pop(name, None)
        return result

    def connection(
        self, gsnumber: int, connected: bool, public_ip: str = ""
    ) -> Event | None:
        """A participant's connection dropped or came back (from
        ``public_ip``, when it is known)."""
        member = self.member(gsnumber)
        if connected and public_ip:
            member.public_ip = public_ip
        if member.connected == connected or self.status == ENDED:
            return None
        member.connected = connected
        state = "connected" if connected else "disconnected"
        return Event(
            ev.MEMBER_STATE_CHANGED,
            performed_by=member.actor,
            data=[
                ("state", state),
                ("os", member.os),
                ("private_ip", member.private_ip),
                ("public_ip", member.public_ip),
            ],
        )

    def system_information(
        self, gsnumber: int, categories: list[dict[str, Any]]
    ) -> Event:
        self._require_open()
        member = self.member(gsnumber)
        if member.kind != ev.CUSTOMER:
            raise SessionStateError("only the customer reports system information")
        for category in categories:
            if category.get("name") == "Overview":
                overview = dict(
                    zip(
                        category.get("fields", []),
                        (category.get("rows") or [[]])[0],
                        strict=False,
                    )
                )
                member.hostname = str(overview.get("hostname", member.hostname))
                member.os = str(overview.get("os", member.os))
                member.private_ip = str(overview.get("private_ip", member.private_ip))
                member.username = str(overview.get("username", member.username))
        return Event(
            ev.SYSTEM_INFORMATION,
            performed_by=member.actor,
            system_information=categories,
        )

    def survey(self, gsnumber: int, answers: dict[str, str]) -> Event:
        """An exit survey; allowed once the session has ended, or while leaving."""
        member = self.member(gsnumber)
        kind = (
            ev.CUSTOMER_EXIT_SURVEY
            if member.kind == ev.CUSTOMER
            else ev.REP_EXIT_SURVEY
        )
        data = [(name, value) for name, value in answers.items()]
        return Event(kind, performed_by=member.actor, data=data)


def _network_data(member: Member) -> list[tuple[str, str]]:
    return [
        ("public_ip", member.public_ip),
        ("private_ip", member.private_ip),
        ("hostname", member.hostname),
        ("os", member.os),
    ]
