"""The console's WebSocket at /console/live, authenticated by the web login.

The browser sends its session cookie with the upgrade; a request from
another origin is refused, so a foreign page cannot read a rep's queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from supportbox.core.hub import ClientInfo, Hub
from supportbox.logs import session_log
from supportbox.runtime import Runtime
from supportbox.web.console.feed import Feed
from supportbox.web.security import store
from supportbox.web.security.guard import COOKIE

#: Close code for a connection without a usable login.
UNAUTHORISED = 4401


def same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser; the cookie still has to be right
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _login(websocket: WebSocket) -> store.Login | None:
    runtime: Runtime = websocket.app.state.runtime
    with runtime.db() as db:
        return store.lookup(db, websocket.cookies.get(COOKIE, ""))


async def console_socket(websocket: WebSocket) -> None:
    login = await run_in_threadpool(_login, websocket)
    allowed = login is not None and login.perm_support and not login.second_factor_due
    if login is None or not allowed or not same_origin(websocket):
        await websocket.close(code=UNAUTHORISED)
        return
    await websocket.accept()

    runtime: Runtime = websocket.app.state.runtime
    hub: Hub = runtime.services["hub"]
    client = websocket.client
    agent = websocket.headers.get("user-agent", "")[:200] or "Unknown"
    info = ClientInfo(
        hostname="web console",
        os=agent,
        public_ip=client.host if client else "Unknown",
    )
    await hub.rep_online(login.user_id, client=info)
    session_log.info("console of user %s connected", login.user_id)

    async def send(message: dict[str, Any]) -> None:
        await websocket.send_text(json.dumps(message))

    feed = asyncio.create_task(Feed(runtime, login.user_id, send).run())
    try:
        while True:
            # The console only pings; anything else it says is ignored.
            await websocket.receive_text()
            if feed.done():
                break
    except WebSocketDisconnect:
        pass
    finally:
        feed.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await feed
        await hub.rep_offline(login.user_id)
        session_log.info("console of user %s disconnected", login.user_id)


routes = [WebSocketRoute("/console/live", console_socket)]
