"""Live protocol messages for shells and file transfers (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from supportbox.errors import ProtocolError
from supportbox.live import protocol
from supportbox.live.connection import Connection, Handler
from supportbox.live.protocol import Message
from supportbox.presentation.handlers import binary as presentation_binary
from supportbox.screen import handlers as screen
from supportbox.streams.relay import DOWNLOAD, SHELL, UPLOAD, relay_of

MAX_SIZE = 10_000


def _session(conn: Connection, msg: Message) -> tuple[str, int]:
    lsid: str = msg.get("lsid")
    membership = conn.memberships.get(lsid)
    if membership is None:
        raise ProtocolError(protocol.NOT_IN_SESSION, f"you are not in session {lsid}")
    return lsid, membership.gsnumber


def _size(msg: Message, name: str, default: int) -> int:
    value: int = msg.get(name, default)
    if not 1 <= value <= MAX_SIZE:
        raise ProtocolError(protocol.INVALID, f"{name} must be 1 to {MAX_SIZE}")
    return value


# representatives


async def shell_open(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _session(conn, msg)
    width, height = _size(msg, "width", 80), _size(msg, "height", 24)
    number = await relay_of(conn.runtime).open_shell(conn, lsid, gs, width, height)
    return {"channel": number}


async def shell_resize(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"), SHELL)
    if conn is not channel.rep:
        raise ProtocolError(protocol.FORBIDDEN, "only the representative resizes")
    await relay.resize(channel, _size(msg, "width", 80), _size(msg, "height", 24))
    return {}


async def file_send(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _session(conn, msg)
    size: int = msg.get("size")
    if size < 0:
        raise ProtocolError(protocol.INVALID, "size must not be negative")
    relay = relay_of(conn.runtime)
    path: str = msg.get("path")
    overwrite = bool(msg.get("overwrite", False))
    number = await relay.send_file(conn, lsid, gs, path, size, overwrite)
    return {"channel": number}


async def file_fetch(conn: Connection, msg: Message) -> dict[str, Any]:
    lsid, gs = _session(conn, msg)
    number = await relay_of(conn.runtime).fetch_file(conn, lsid, gs, msg.get("path"))
    return {"channel": number}


# customers


async def shell_accept(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"), SHELL)
    env = protocol.string_map(msg.get("env", {}), "env")
    await relay.shell_accepted(
        channel, {k: env[k] for k in ("SHELL", "TERM") if k in env}
    )
    return {}


async def file_accept(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"))
    if channel.kind == SHELL or conn is not channel.customer:
        raise ProtocolError(protocol.FORBIDDEN, "only the customer accepts a file")
    await relay.file_accepted(channel, msg.get("size"))
    return {}


async def file_refuse(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"))
    if channel.kind == SHELL or conn is not channel.customer:
        raise ProtocolError(protocol.FORBIDDEN, "only the customer refuses a file")
    await relay.fail(channel, str(msg.get("reason"))[:500])
    return {}


async def file_done(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"), UPLOAD)
    if conn is not channel.customer:
        raise ProtocolError(protocol.FORBIDDEN, "only the customer stores a file")
    await relay.upload_stored(channel)
    return {}


# either side


async def shell_close(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"), SHELL)
    default = "closed by the representative"
    if conn is channel.customer:
        default = "closed by the customer"
    reason = str(msg.get("reason", default))[:200]
    await relay.end(channel, reason, by=conn)
    return {}


async def file_end(conn: Connection, msg: Message) -> dict[str, Any]:
    relay = relay_of(conn.runtime)
    channel = relay.channel(conn, msg.get("channel"))
    sender = channel.rep if channel.kind == UPLOAD else channel.customer
    if channel.kind not in (UPLOAD, DOWNLOAD) or conn is not sender:
        raise ProtocolError(protocol.FORBIDDEN, "only the sender ends a transfer")
    await relay.file_end(channel, msg.get("sha256"))
    return {}


REP_HANDLERS: dict[str, Handler] = {
    "shell_open": shell_open,
    "shell_resize": shell_resize,
    "shell_close": shell_close,
    "file_send": file_send,
    "file_fetch": file_fetch,
    "file_end": file_end,
    **screen.REP_HANDLERS,
}

CUSTOMER_HANDLERS: dict[str, Handler] = {
    "shell_accept": shell_accept,
    "shell_close": shell_close,
    "file_accept": file_accept,
    "file_refuse": file_refuse,
    "file_end": file_end,
    "file_done": file_done,
    **screen.CUSTOMER_HANDLERS,
}


async def binary(conn: Connection, frame: bytes) -> None:
    """A binary frame from an authenticated client."""
    if await presentation_binary(conn, frame):
        return
    await relay_of(conn.runtime).binary(conn, frame)
