"""The WebSocket route ``/live``: one endpoint for both roles.

The receive loop reads one frame at a time and answers it before reading
the next, so a client's commands take effect in the order it sent them.
A bad frame gets an ``error`` frame and the loop goes on; a client that
sends nothing for ``live_idle_timeout`` seconds is closed (code 4000)
and treated as a dropped connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from supportbox.errors import ProtocolError
from supportbox.live import customer, protocol, rep
from supportbox.live.connection import Connection
from supportbox.live.errors import error_for
from supportbox.live.protocol import Message
from supportbox.live.registry import Registry
from supportbox.logs import session_log
from supportbox.runtime import Runtime
from supportbox.streams import handlers as streams
from supportbox.streams.relay import relay_of

IDLE_CLOSE = 4000


def registry_of(runtime: Runtime) -> Registry:
    registry: Registry = runtime.services["live"]
    return registry


async def live(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    registry = registry_of(runtime)
    await websocket.accept()
    conn = Connection(websocket, runtime, registry)
    session_log.debug("live connection %s opened from %s", conn.id, conn.public_ip)

    deliberate = False
    try:
        deliberate = await _serve(conn)
    finally:
        if conn.role is not None:
            await relay_of(runtime).gone(conn)
            await conn.close(deliberate)
            session_log.info(
                "live %s connection %s closed (%s)",
                conn.role,
                conn.id,
                "bye" if deliberate else "dropped",
            )
        else:
            conn.closing = True


async def _serve(conn: Connection) -> bool:
    """Answer frames until the peer goes; ``True`` if it said ``bye``."""
    idle = conn.runtime.settings.live_idle_timeout
    while True:
        try:
            async with asyncio.timeout(idle):
                message = await conn.websocket.receive()
        except TimeoutError:
            await conn.send(
                protocol.error_frame("idle_timeout", "no message within the timeout")
            )
            await conn.close_socket(IDLE_CLOSE, "idle timeout")
            return False
        if message["type"] == "websocket.disconnect":
            return False
        frame = message.get("text")
        if frame is None:
            frame = message.get("bytes") or b""
        if await _answer(conn, frame):
            await conn.close_socket(1000)
            return True


async def _answer(conn: Connection, frame: str | bytes) -> bool:
    """Handle one frame; ``True`` when it was ``bye``."""
    msg: Message | None = None
    try:
        if isinstance(frame, bytes) and conn.role is not None:
            # shell and file data (docs/protocol.md, "Binary frames")
            await streams.binary(conn, frame)
            return False
        msg = protocol.parse(frame)
        if msg.type == "bye":
            return True
        reply = await _dispatch(conn, msg)
    except Exception as exc:
        re = msg.id if msg is not None else None
        reply = error_for(exc, re)
        if reply is None:
            session_log.exception("live connection %s: command failed", conn.id)
            reply = protocol.error_frame(protocol.INTERNAL, "internal error", re)
    if reply is None:
        return False
    if msg is not None and msg.id is not None and conn.identity:
        conn.registry.remember(conn.identity, msg.id, reply)
    await conn.send(reply)
    return False


async def _dispatch(conn: Connection, msg: Message) -> dict[str, Any] | None:
    if msg.type == "ping":
        return {"type": "pong", **({"re": msg.id} if msg.id else {})}
    if msg.type == "hello":
        if conn.role is not None:
            raise ProtocolError(protocol.ALREADY_AUTHENTICATED, "already said hello")
        if msg.get("v") != protocol.VERSION:
            raise ProtocolError(
                protocol.UNSUPPORTED_VERSION,
                f"this server speaks version {protocol.VERSION}",
            )
        role = msg.get("role")
        if role == protocol.CUSTOMER:
            await customer.hello(conn, msg)
        elif role == protocol.REPRESENTATIVE:
            await rep.hello(conn, msg)
        else:
            raise ProtocolError(protocol.INVALID, f"role {role!r} is not known")
        return None
    if conn.role is None:
        raise ProtocolError(protocol.NOT_AUTHENTICATED, "say hello first")

    handler = conn.handlers.get(msg.type)
    if handler is None:
        raise ProtocolError(
            protocol.FORBIDDEN, f"{msg.type} is not available to a {conn.role}"
        )
    if msg.id is not None:
        done = conn.registry.reply_to(conn.identity, msg.id)
        if done is not None:
            return {**done, "duplicate": True}
    body = await handler(conn, msg)
    if body is None:
        return None  # a message answered only by what it causes (screen_ack)
    return protocol.ok_frame(msg.id, **body)


def routes() -> list[BaseRoute]:
    return [WebSocketRoute("/live", live)]


def install(runtime: Runtime) -> None:
    runtime.services["live"] = Registry(float(runtime.settings.resume_grace))
