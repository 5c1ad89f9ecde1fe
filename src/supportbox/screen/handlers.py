"""Live protocol messages for shared screens (docs/protocol.md, version 1.2)."""

from __future__ import annotations

from typing import Any

from supportbox.errors import InvalidInput, ProtocolError
from supportbox.live import protocol
from supportbox.live.connection import Connection, Handler
from supportbox.live.protocol import Message
from supportbox.screen import inputs
from supportbox.screen.codec import MAX_PIXELS
from supportbox.screen.sharing import KIND as SCREEN
from supportbox.streams.relay import Channel, relay_of


def _channel(conn: Connection, msg: Message, side: str = "") -> Channel:
    channel = relay_of(conn.runtime).channel(conn, msg.get("channel"), SCREEN)
    if side == "rep" and conn is not channel.rep:
        raise ProtocolError(protocol.FORBIDDEN, f"only the representative {msg.type}s")
    if side == "customer" and conn is not channel.customer:
        raise ProtocolError(protocol.FORBIDDEN, f"only the customer sends {msg.type}")
    return channel


def _reason(msg: Message, default: str) -> str:
    return str(msg.get("reason", default))[:200]


def _gs(conn: Connection, channel: Channel) -> int:
    membership = conn.memberships.get(channel.lsid)
    return membership.gsnumber if membership is not None else channel.rep_gs


# representatives


async def screen_open(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid: str = msg.get("lsid")
    membership = conn.memberships.get(lsid)
    if membership is None:
        raise ProtocolError(protocol.NOT_IN_SESSION, f"you are not in session {lsid}")
    screens = relay_of(conn.runtime).screens
    return {"channel": await screens.open(conn, lsid, membership.gsnumber)}


async def screen_watch(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid: str = msg.get("lsid")
    if lsid not in conn.memberships:
        raise ProtocolError(protocol.NOT_IN_SESSION, f"you are not in session {lsid}")
    channel = await relay_of(conn.runtime).screens.watch(conn, lsid)
    return {"channel": channel.number}


async def screen_ack(conn: Connection, msg: Message) -> dict[str, Any] | None:
    if relay_of(conn.runtime).screens.watched_by(conn, msg.get("channel")):
        return None  # viewers do not pace the customer
    channel = _channel(conn, msg, "rep")
    await relay_of(conn.runtime).screens.ack(channel, msg.get("update"))
    return None


async def screenshot(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg, "rep")
    name = str(msg.get("filename", "screenshot.png"))[:255]
    width, height = await relay_of(conn.runtime).screens.screenshot(channel, name)
    return {"width": width, "height": height}


async def control_request(conn: Connection, msg: Message) -> dict[str, Any]:
    await relay_of(conn.runtime).screens.ask_control(_channel(conn, msg, "rep"))
    return {}


async def screen_input(conn: Connection, msg: Message) -> dict[str, Any] | None:
    channel = _channel(conn, msg, "rep")
    events = inputs.check(msg.get("events"))
    await relay_of(conn.runtime).screens.input(channel, events)
    # Answered only when asked (an id), so a stream of moves stays light.
    return {} if msg.id is not None else None


# customers


async def screen_accept(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg, "customer")
    width, height = msg.get("width"), msg.get("height")
    if not (0 < width <= 65535 and 0 < height <= 65535) or width * height > MAX_PIXELS:
        raise InvalidInput(f"the screen must be 1 to {MAX_PIXELS} pixels")
    await relay_of(conn.runtime).screens.accepted(channel, width, height)
    return {}


async def screen_refuse(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg, "customer")
    reason = _reason(msg, "refused by the customer")
    await relay_of(conn.runtime).end(channel, reason, by=conn)
    return {}


async def control_grant(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg, "customer")
    await relay_of(conn.runtime).screens.grant(channel, _gs(conn, channel))
    return {}


async def control_refuse(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg, "customer")
    reason = _reason(msg, "refused by the customer")
    await relay_of(conn.runtime).screens.refuse_control(channel, reason)
    return {}


# either side


async def control_revoke(conn: Connection, msg: Message) -> dict[str, Any]:
    channel = _channel(conn, msg)
    by = "customer" if conn is channel.customer else "representative"
    reason = _reason(msg, f"revoked by the {by}")
    await relay_of(conn.runtime).screens.revoke(channel, _gs(conn, channel), reason)
    return {}


async def screen_close(conn: Connection, msg: Message) -> dict[str, Any]:
    screens = relay_of(conn.runtime).screens
    if screens.watched_by(conn, msg.get("channel")):
        screens.unwatch(conn)
        return {}
    channel = _channel(conn, msg)
    by = "customer" if conn is channel.customer else "representative"
    await relay_of(conn.runtime).end(
        channel, _reason(msg, f"stopped by the {by}"), conn
    )
    return {}


REP_HANDLERS: dict[str, Handler] = {
    "screen_open": screen_open,
    "screen_watch": screen_watch,
    "screen_ack": screen_ack,
    "screenshot": screenshot,
    "control_request": control_request,
    "control_revoke": control_revoke,
    "screen_input": screen_input,
    "screen_close": screen_close,
}

CUSTOMER_HANDLERS: dict[str, Handler] = {
    "screen_accept": screen_accept,
    "screen_refuse": screen_refuse,
    "control_grant": control_grant,
    "control_refuse": control_refuse,
    "control_revoke": control_revoke,
    "screen_close": screen_close,
}
