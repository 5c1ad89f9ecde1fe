"""What a representative's connection may do: queues and their sessions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from supportbox.auth import ratelimit
from supportbox.core.presence import ClientInfo, ConnectedClient
from supportbox.core.queues import QueueRef
from supportbox.directory import users
from supportbox.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    ProtocolError,
    SessionStateError,
)
from supportbox.live import protocol
from supportbox.live.connection import Connection, Handler
from supportbox.live.protocol import Message
from supportbox.logs import audit_log, session_log
from supportbox.presentation.handlers import PRESENTER_HANDLERS
from supportbox.presentation.live import presentations_of
from supportbox.streams.handlers import REP_HANDLERS
from supportbox.web.security import guard as web_guard
from supportbox.web.security import store as web_store


async def hello(conn: Connection, msg: Message) -> dict[str, Any]:
    """Log in with a password or a resume ticket; resume held sessions."""
    resume = protocol.seq_map(msg.get("sessions", {}))
    ticket = msg.get("resume_token")
    user_id: int
    limiter = ratelimit.of(conn.runtime)
    if ticket:
        key = f"ip:{conn.address}"
        limiter.check(key)
        redeemed = conn.registry.redeem_ticket(ticket)
        if redeemed is None:
            limiter.failure(key)
            raise AuthError("the resume token is not valid")
        user_id = redeemed
        name = await asyncio.to_thread(_check_user, conn, user_id)
    elif msg.get("web_session"):
        # The console: the browser's web login cookie came with the upgrade.
        user_id, name = await asyncio.to_thread(web_login, conn)
    else:
        user_id, name = await _login(conn, msg, limiter)

    conn.role, conn.identity = protocol.REPRESENTATIVE, f"r:{user_id}"
    conn.user_id, conn.handlers, conn.on_gone = user_id, HANDLERS, gone
    conn.queue_updates = msg.get("queue_updates", True)
    client = msg.get("client", {})
    info = ClientInfo(
        hostname=str(client.get("hostname", "Unknown")),
        os=str(client.get("os", "Unknown")),
        public_ip=conn.public_ip,
    )
    parked = conn.registry.unpark(conn.identity)
    if parked is None:
        await conn.hub.rep_online(user_id, client=info)
    conn.hub.register_client(
        ConnectedClient(
            id=conn.id,
            type="representative",
            hostname=info.hostname,
            os=info.os,
            connected_since=time.time(),
            user_id=user_id,
            public_ip=conn.public_ip,
        )
    )
    conn.ticket = conn.registry.issue_ticket(user_id)
    held = parked.sessions if parked else await conn.hub.held_by(user_id)
    if parked is None:
        # Sessions taken up after a node was lost or after a new login.
        for lsid, gs in held.items():
            await conn.hub.connection(lsid, gs, True)
    await conn.send(
        {
            "type": "welcome",
            "v": protocol.VERSION,
            "minor": protocol.MINOR,
            "role": protocol.REPRESENTATIVE,
            "user": {"id": user_id, "username": msg.get("username", ""), "name": name},
            "sessions": sorted(held),
            "resume_token": conn.ticket,
            "resume_grace": conn.registry.grace,
            "heartbeat": protocol.HEARTBEAT,
            "idle_timeout": conn.runtime.settings.live_idle_timeout,
        }
    )
    conn.watch_queues(user_id)
    for lsid, gs in held.items():
        await conn.attach(lsid, gs, resume.get(lsid, 0))
    if held:
        session_log.info("user %s resumed %s session(s)", user_id, len(held))
    if conn.queue_updates:
        await conn.send(await conn.queues_frame())
    return {}


async def _login(
    conn: Connection, msg: Message, limiter: ratelimit.Limiter
) -> tuple[int, str]:
    username, password = msg.get("username"), msg.get("password")
    typed = isinstance(username, str) and isinstance(password, str)
    if not typed or not username or not password:
        raise ProtocolError(
            protocol.INVALID,
            "a representative hello needs username and password, or resume_token",
        )
    keys = ratelimit.login_keys(conn.address, username)
    for key in keys:
        limiter.check(key)

    def check() -> tuple[int, str] | None:
        with conn.runtime.db() as db:
            user = users.authenticate(db, username, password)
            if user is None or not user.perm_support:
                return None
            return user.id, user.public_display_name

    found = await asyncio.to_thread(check)
    if found is None:
        for key in keys:
            limiter.failure(key)
        # Never the typed username: it is often the password by mistake.
        audit_log.info("live login failed from %s", conn.address)
        raise AuthError("wrong username or password, or no support permission")
    limiter.success(keys[1])
    audit_log.info("user %s logged in to the live service", found[0])
    return found


def web_login(conn: Connection) -> tuple[int, str]:
    """The user of the browser's web session cookie (the console).

    Only a page of this server may use the cookie: a foreign ``Origin``
    is refused, so another site cannot act as a logged-in representative.
    """
    if not web_guard.same_origin(conn.websocket):
        raise AuthError("the web session may only be used from this server's pages")
    raw = conn.websocket.cookies.get(web_guard.COOKIE, "")
    with conn.runtime.db() as db:
        login = web_store.lookup(db, raw)
    if login is None or login.second_factor_due or not login.perm_support:
        raise AuthError("no web login with the support permission")
    audit_log.info("user %s opened the console", login.user_id)
    return login.user_id, login.name


def _check_user(conn: Connection, user_id: int) -> str:
    with conn.runtime.db() as db:
        user = users.get_by_id(db, user_id)
        if not user.enabled or not user.perm_support:
            raise AuthError("this account may no longer provide support")
        return user.public_display_name


def _uid(conn: Connection) -> int:
    assert conn.user_id is not None
    return conn.user_id


def _in(conn: Connection, msg: Message) -> tuple[str, int]:
    """The session named by the message, which this rep must be in."""
    lsid = msg.get("lsid")
    membership = conn.memberships.get(lsid) if lsid else None
    if membership is None:
        raise ProtocolError(
            protocol.NOT_IN_SESSION, f"you are not in session {lsid}", msg.id
        )
    return membership.lsid, membership.gsnumber


async def queues(conn: Connection, msg: Message) -> dict[str, Any]:
    frame = await conn.queues_frame()
    del frame["type"]
    return frame


async def accept(conn: Connection, msg: Message) -> dict[str, Any]:
    """Take the named waiting session, or the first one this rep sees."""
    uid = _uid(conn)
    lsid = msg.get("lsid")
    if lsid:
        candidates = [lsid]
    else:
        candidates = [w["lsid"] for w in await conn.hub.waiting_for(uid)]
        if not candidates:
            raise SessionStateError("no session is waiting in your queues")
    for index, candidate in enumerate(candidates):
        try:
            gs = await conn.hub.accept(candidate, uid)
        except SessionStateError:
            if lsid or index == len(candidates) - 1:
                raise
            continue  # another representative took it first
        await conn.attach(candidate, gs, 0)
        return {"lsid": candidate, "gsnumber": gs}
    raise SessionStateError("no session is waiting in your queues")


async def join(conn: Connection, msg: Message) -> dict[str, Any]:
    """Join a session this rep was invited to."""
    lsid, uid = msg.get("lsid"), _uid(conn)
    if not conn.registry.take_invitation(lsid, uid):
        raise PermissionDenied(f"you were not invited to session {lsid}")
    gs = await conn.hub.join(lsid, uid, invited=True)
    await conn.attach(lsid, gs, 0)
    return {"lsid": lsid, "gsnumber": gs}


async def chat(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    event = await conn.hub.chat(lsid, gs, msg.get("body"))
    return {"seq": event.seq}


async def external_key(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    await conn.hub.set_custom(lsid, {"external_key": msg.get("external_key")}, gs)
    return {}


async def note(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    await conn.hub.add_note(lsid, gs, msg.get("body"))
    return {}


async def transfer(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    await conn.hub.transfer(lsid, QueueRef.parse(msg.get("to")), gs)
    return {}


async def invite(conn: Connection, msg: Message) -> dict[str, Any]:
    """Offer another representative to join this session (a conference)."""
    lsid, _gs = _in(conn, msg)
    username = msg.get("username")

    def find() -> tuple[int, str]:
        with conn.runtime.db() as db:
            user = users.get(db, username)
            if not user.enabled or not user.perm_support:
                raise PermissionDenied(f"{username} may not provide support")
            return user.id, user.public_display_name

    user_id, name = await asyncio.to_thread(find)
    if user_id == conn.user_id:
        raise SessionStateError("you are already in this session")
    conn.registry.invite(lsid, user_id)
    inviter = await asyncio.to_thread(_check_user, conn, _uid(conn))
    await conn.broker.publish(
        f"rep:{user_id}",
        {"type": "offer", "lsid": lsid, "reason": "invitation", "by": inviter},
    )
    return {"user_id": user_id, "name": name}


async def leave(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    await conn.hub.leave(lsid, gs)
    return {}


async def end(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _in(conn, msg)
    await conn.hub.end(lsid, gs)
    return {}


async def survey(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid = msg.get("lsid")
    gs = conn.departed.get(lsid) if lsid else None
    if gs is None:
        if lsid in conn.memberships:
            raise SessionStateError("the exit survey opens when you leave the session")
        raise ProtocolError(protocol.NOT_IN_SESSION, f"you were not in session {lsid}")
    answers = protocol.string_map(msg.get("answers"), "answers")
    await conn.hub.submit_survey(lsid, gs, answers)
    return {}


async def gone(conn: Connection, deliberate: bool) -> None:
    """Closed: on ``bye`` leave at once; after a drop, wait the grace."""
    uid = _uid(conn)
    await presentations_of(conn.runtime).gone(conn)
    if conn.ticket is not None:
        conn.registry.close_ticket(conn.ticket)
    held = {lsid: m.gsnumber for lsid, m in conn.memberships.items()}
    if deliberate:
        conn.registry.forget(conn.identity)
        await _leave_all(conn, uid, held)
        return

    for lsid, gs in held.items():
        await conn.hub.connection(lsid, gs, False)

    async def expire() -> None:
        await _leave_all(conn, uid, held)

    conn.registry.park(conn.identity, held, expire)


async def _leave_all(conn: Connection, uid: int, held: dict[str, int]) -> None:
    for lsid, gs in held.items():
        # already gone: transferred, ended, or left meanwhile
        with contextlib.suppress(SessionStateError, NotFound):
            await conn.hub.leave(lsid, gs)
    await conn.hub.rep_offline(uid)


HANDLERS: dict[str, Handler] = {
    "queues": queues,
    "accept": accept,
    "join": join,
    "chat": chat,
    "external_key": external_key,
    "note": note,
    "transfer": transfer,
    "invite": invite,
    "leave": leave,
    "end": end,
    "survey": survey,
    **REP_HANDLERS,
    **PRESENTER_HANDLERS,
}
