"""What outlives one live connection, on this node.

* Grace timers: a client whose connection drops is *parked*; if it does
  not come back within ``resume_grace`` seconds, its expiry runs (the
  customer leaves and the session ends; the representative leaves their
  sessions and goes offline).
* Representative resume tickets: single-use tokens that log a
  representative back in without the password.
* Invitations: which representative may join which session.
* Replies: the answer to each command id a client sent recently, so a
  command resent after a reconnect is answered again, not done twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from supportbox import ids
from supportbox.logs import session_log

#: Seconds an invitation to join a session stays valid.
INVITATION_TTL = 300.0

#: Replies remembered per client.
REPLY_MEMORY = 256

Expiry = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Parked:
    """A dropped client waiting to resume: what it held, and its timer."""

    sessions: dict[str, int]
    handle: asyncio.TimerHandle | None = None


@dataclass
class Ticket:
    user_id: int
    expires: float | None = None  # None while its connection is open


@dataclass
class Registry:
    grace: float
    parked: dict[str, Parked] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    invitations: dict[tuple[str, int], float] = field(default_factory=dict)
    replies: dict[str, OrderedDict[str, dict[str, Any]]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        # Kept so that code on other threads (tests, tools) can hand work
        # to the server's loop, where the broker's queues live.
        self.loop = asyncio.get_running_loop()

    # grace

    def park(self, identity: str, sessions: dict[str, int], expiry: Expiry) -> None:
        """Start the grace period of ``identity``; ``expiry`` runs at its end."""
        self.unpark(identity)
        parked = Parked(dict(sessions))
        loop = asyncio.get_running_loop()
        parked.handle = loop.call_later(self.grace, self._expire, identity, expiry)
        self.parked[identity] = parked

    def unpark(self, identity: str) -> Parked | None:
        """Stop the grace period of a client that came back; what it held."""
        parked = self.parked.pop(identity, None)
        if parked is not None and parked.handle is not None:
            parked.handle.cancel()
        return parked

    def _expire(self, identity: str, expiry: Expiry) -> None:
        self.parked.pop(identity, None)
        self.replies.pop(identity, None)
        session_log.info("%s did not resume within %ss", identity, self.grace)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(expiry())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # representative tickets

    def issue_ticket(self, user_id: int) -> str:
        token = ids.new_token()
        self.tickets[_digest(token)] = Ticket(user_id)
        return token

    def redeem_ticket(self, token: str) -> int | None:
        """The user of an unused, unexpired ticket; the ticket is used up."""
        ticket = self.tickets.pop(_digest(token), None)
        if ticket is None:
            return None
        if ticket.expires is not None and ticket.expires < time.monotonic():
            return None
        return ticket.user_id

    def close_ticket(self, token: str) -> None:
        """The ticket's connection closed: it now expires with the grace."""
        ticket = self.tickets.get(_digest(token))
        if ticket is not None:
            ticket.expires = time.monotonic() + self.grace
        now = time.monotonic()
        for key, other in list(self.tickets.items()):
            if other.expires is not None and other.expires < now:
                del self.tickets[key]

    # invitations

    def invite(self, lsid: str, user_id: int) -> None:
        self.invitations[(lsid, user_id)] = time.monotonic() + INVITATION_TTL

    def take_invitation(self, lsid: str, user_id: int) -> bool:
        expires = self.invitations.pop((lsid, user_id), None)
        return expires is not None and expires >= time.monotonic()

    # replies to commands

    def reply_to(self, identity: str, command_id: str) -> dict[str, Any] | None:
        known = self.replies.get(identity)
        return None if known is None else known.get(command_id)

    def remember(self, identity: str, command_id: str, reply: dict[str, Any]) -> None:
        known = self.replies.setdefault(identity, OrderedDict())
        known[command_id] = reply
        while len(known) > REPLY_MEMORY:
            known.popitem(last=False)

    def forget(self, identity: str) -> None:
        self.replies.pop(identity, None)

    async def stop(self) -> None:
        for parked in self.parked.values():
            if parked.handle is not None:
                parked.handle.cancel()
        self.parked.clear()
        for task in list(self.tasks):
            task.cancel()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
