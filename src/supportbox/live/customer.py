"""What a customer's connection may do: one session, as its customer."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from supportbox.auth import ratelimit
from supportbox.core.presence import ConnectedClient
from supportbox.errors import (
    AuthError,
    PermissionDenied,
    ProtocolError,
    SessionStateError,
)
from supportbox.live import protocol
from supportbox.live.connection import Connection, Handler
from supportbox.live.protocol import Message
from supportbox.logs import session_log
from supportbox.streams.handlers import CUSTOMER_HANDLERS
from supportbox.streams.relay import relay_of


async def hello(conn: Connection, msg: Message) -> dict[str, Any]:
    """Authenticate with the join token or the last resume token."""
    lsid, token = msg.get("lsid"), msg.get("token")
    if not lsid or not token:
        raise ProtocolError(protocol.INVALID, "a customer hello needs lsid and token")
    last_seq = msg.get("last_seq", 0)
    # Token guesses have a limiter of their own: a customer's stale token
    # must not lock the representatives at the same address out.
    limiter = ratelimit.of(conn.runtime, "join_guesses")
    key = f"ip:{conn.address}"
    limiter.check(key)
    try:
        gsnumber, resume_token = await conn.hub.authenticate(lsid, token)
    except (PermissionDenied, LookupError):
        limiter.failure(key)
        raise AuthError("the session token is not valid") from None

    identity = f"c:{lsid}:{gsnumber}"
    conn.role, conn.identity = protocol.CUSTOMER, identity
    conn.handlers, conn.on_gone = HANDLERS, gone
    if conn.registry.unpark(identity) is not None:
        session_log.info("customer resumed session %s", lsid)
    state = await conn.hub.state(lsid)
    client = msg.get("client", {})
    conn.hub.register_client(
        ConnectedClient(
            id=conn.id,
            type="support_customer",
            hostname=str(client.get("hostname", "Unknown")),
            os=str(client.get("os", "Unknown")),
            connected_since=time.time(),
            lsid=lsid,
            public_ip=conn.public_ip,
        )
    )
    # Known to the stream relay before the welcome, so a representative
    # who hears of this customer can open a shell at once.
    relay_of(conn.runtime).customer_here(lsid, conn)
    await conn.send(
        {
            "type": "welcome",
            "v": protocol.VERSION,
            "minor": protocol.MINOR,
            "role": protocol.CUSTOMER,
            "lsid": lsid,
            "gsnumber": gsnumber,
            "status": state.status,
            "resume_token": resume_token,
            "resume_grace": conn.registry.grace,
            "heartbeat": protocol.HEARTBEAT,
            "idle_timeout": conn.runtime.settings.live_idle_timeout,
        }
    )
    await conn.attach(lsid, gsnumber, last_seq)
    return {}


def _own(conn: Connection, msg: Message) -> tuple[str, int]:
    """The customer's session and gsnumber; an ``lsid`` given must be it."""
    lsid, gs = conn.identity.split(":")[1:]
    asked = msg.get("lsid")
    if asked is not None and asked != lsid:
        raise ProtocolError(protocol.NOT_IN_SESSION, f"you are not in session {asked}")
    return lsid, int(gs)


def _live(conn: Connection, msg: Message) -> tuple[str, int]:
    lsid, gs = _own(conn, msg)
    if lsid not in conn.memberships:
        raise SessionStateError(f"session {lsid} has ended")
    return lsid, gs


async def chat(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _live(conn, msg)
    event = await conn.hub.chat(lsid, gs, msg.get("body"))
    return {"seq": event.seq}


async def system_info(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _live(conn, msg)
    categories = msg.get("categories")
    for category in categories:
        if not isinstance(category, dict) or not isinstance(category.get("name"), str):
            raise ProtocolError(protocol.INVALID, "each category needs a name")
    await conn.hub.system_information(lsid, gs, categories)
    return {}


async def survey(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _own(conn, msg)
    if lsid in conn.memberships:
        raise SessionStateError("the exit survey opens when the session ends")
    answers = protocol.string_map(msg.get("answers"), "answers")
    await conn.hub.submit_survey(lsid, gs, answers)
    return {}


async def leave(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _live(conn, msg)
    await conn.hub.leave(lsid, gs)
    return {}


async def gone(conn: Connection, deliberate: bool) -> None:
    """The connection closed: start the grace, or leave on ``bye``."""
    lsid, gs = _own(conn, Message("gone"))
    if lsid not in conn.memberships:
        conn.registry.forget(conn.identity)
        return
    if deliberate:
        conn.registry.forget(conn.identity)
        await _leave_quietly(conn, lsid, gs)
        return

    await conn.hub.connection(lsid, gs, False)

    async def expire() -> None:
        await _leave_quietly(conn, lsid, gs)

    conn.registry.park(conn.identity, {lsid: gs}, expire)


async def _leave_quietly(conn: Connection, lsid: str, gs: int) -> None:
    with contextlib.suppress(SessionStateError):  # it ended meanwhile
        await conn.hub.leave(lsid, gs)


HANDLERS: dict[str, Handler] = {
    "chat": chat,
    "system_info": system_info,
    "survey": survey,
    "leave": leave,
    **CUSTOMER_HANDLERS,
}
