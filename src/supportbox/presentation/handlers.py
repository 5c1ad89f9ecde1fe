"""Live protocol messages of a presenter (docs/protocol.md, "Presentations")."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from supportbox.errors import ProtocolError, RecordingRequired, SessionStateError
from supportbox.live import protocol
from supportbox.live.connection import Connection, Handler
from supportbox.live.protocol import Message
from supportbox.logs import session_log
from supportbox.presentation import store
from supportbox.presentation.live import LivePresentation, presentations_of
from supportbox.recording.sharing import start_screen_feed
from supportbox.recording.store import PRESENTATION
from supportbox.storage.models import User
from supportbox.streams import frames

WATCH_PATH = "/presentation"


async def present_start(conn: Connection, msg: Message) -> dict[str, Any]:
    """Start a presentation of this representative's screen (one at a time)."""
    service = presentations_of(conn.runtime)
    user_id = conn.user_id
    if user_id is None:
        raise ProtocolError(protocol.FORBIDDEN, "you may not present")
    if service.presenting(user_id):
        raise SessionStateError(
            "you are already presenting; stop that presentation first"
        )
    service.starting.add(user_id)
    try:
        return await _start(conn)
    finally:
        service.starting.discard(user_id)


async def _start(conn: Connection) -> dict[str, Any]:
    runtime = conn.runtime
    service = presentations_of(runtime)

    def open_row() -> store.Opened:
        with runtime.write_db() as db, db.begin():
            user = db.get(User, conn.user_id)
            if user is None or not (user.enabled and user.perm_support):
                raise ProtocolError(protocol.FORBIDDEN, "you may not present")
            name = user.public_display_name
            return store.start(db, user.id, name, user.username, conn.public_ip)

    opened = await asyncio.to_thread(open_row)
    try:
        feed = await start_screen_feed(runtime, opened.lsid, PRESENTATION)
    except RecordingRequired:
        await asyncio.to_thread(_end, conn, opened.lsid)
        raise
    except asyncio.CancelledError:
        # the connection's work is cancelled (the server stops): the row
        # must not stay live (a recorder opened meanwhile is not reached)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(_end, conn, opened.lsid)
        raise
    if conn.closing or service.stopping:
        # the presenter went (or the server began to stop) while the
        # recording opened: nobody would ever end this presentation
        if feed is not None:
            await feed.aclose()
        await asyncio.to_thread(_end, conn, opened.lsid)
        raise SessionStateError("the presentation ended before it began")
    channel = service.new_channel()
    service.live[opened.lsid] = LivePresentation(
        opened.lsid, conn, channel, opened.short_key, opened.url_token, feed
    )
    session_log.info("presentation %s started on %s", opened.lsid, conn.id)
    base = runtime.settings.base_url
    return {
        "lsid": opened.lsid,
        "channel": channel,
        "key": opened.short_key,
        "url": f"{base}{WATCH_PATH}/{opened.url_token}",
        "recording": feed is not None,
    }


def _end(conn: Connection, lsid: str) -> None:
    with conn.runtime.write_db() as db, db.begin():
        store.end(db, lsid)


async def present_stop(conn: Connection, msg: Message) -> dict[str, Any]:
    service = presentations_of(conn.runtime)
    presentation = service.live.get(msg.get("lsid"))
    if presentation is None or presentation.presenter is not conn:
        raise ProtocolError(protocol.NOT_FOUND, "you are not presenting that")
    await service.end(presentation.lsid)
    return {}


async def binary(conn: Connection, frame: bytes) -> bool:
    """Take a presenter's binary frame; ``False`` when it is not one."""
    service = presentations_of(conn.runtime)
    channel, _chunk, data = frames.decode(frame)
    presentation = service.on_channel(conn, channel)
    if presentation is None:
        return False
    presentation.part(bytes(data))
    return True


PRESENTER_HANDLERS: dict[str, Handler] = {
    "present_start": present_start,
    "present_stop": present_stop,
}
