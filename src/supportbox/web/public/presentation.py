"""Attending a presentation: the key box, the watch page and its socket.

``/presentation?key=<7 digits>&name=<name>`` checks a presentation key
(wrong keys count against the address like session keys) and sends the
browser on to ``/presentation/<url token>``: the page that draws the
presenter's screen on a canvas. Its script opens the WebSocket
``/presentation/ws/<url token>?name=<name>``, which sends one JSON
``presentation`` message, then each screen update part as one binary
message (docs/protocol.md, "Presentations"), and ``ended`` at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from supportbox import peers
from supportbox.auth.ratelimit import Limiter
from supportbox.errors import NotFound, SessionStateError
from supportbox.presentation import store
from supportbox.presentation.live import Attendee, LivePresentation, presentations_of
from supportbox.runtime import Runtime
from supportbox.web.public import pages
from supportbox.web.public.site import _site_name

ENDED_CLOSE = 4000
REFUSED_CLOSE = 4429
UNKNOWN_CLOSE = 4404


def _name(raw: str | None) -> str:
    return " ".join((raw or "").split())[:100] or "Attendee"


def _live_lsid(runtime: Runtime, code: str) -> str | None:
    with runtime.db() as db:
        return store.find_live(db, code)


async def join_form(request: Request) -> Response:
    """``/presentation``: the key box, or on to the watch page for a good key."""
    runtime: Runtime = request.app.state.runtime
    site_name = await asyncio.to_thread(_site_name, runtime, request)
    key = request.query_params.get("key", "").strip()
    if not key:
        return pages.render("presentation_join.html", site_name=site_name)

    guesses: Limiter = runtime.services["key_guesses"]
    address = f"ip:{request.client.host if request.client else 'unknown'}"
    wait = guesses.retry_after(address)
    if wait:
        message = f"too many wrong keys; try again in {wait} seconds"
        return pages.error(site_name, 429, "Please wait", message)
    lsid = await asyncio.to_thread(_live_lsid, runtime, key[:40])
    live = presentations_of(runtime).live.get(lsid or "")
    if live is None:
        guesses.failure(address)
        message = "that presentation key is not valid or the presentation has ended"
        return pages.error(site_name, 404, "No such presentation", message)
    name = _name(request.query_params.get("name"))
    target = f"/presentation/{live.url_token}?{urlencode({'name': name})}"
    return RedirectResponse(target, status_code=303)


async def watch_page(request: Request) -> Response:
    """``/presentation/<url token>``: the canvas the screen is drawn on."""
    runtime: Runtime = request.app.state.runtime
    token = request.path_params["token"]
    site_name = await asyncio.to_thread(_site_name, runtime, request)
    lsid = await asyncio.to_thread(_live_lsid, runtime, token)
    if lsid is None or lsid not in presentations_of(runtime).live:
        message = "this presentation has ended or never existed"
        return pages.error(site_name, 404, "No such presentation", message)
    return pages.render(
        "presentation.html",
        site_name=site_name,
        token=token,
        name=_name(request.query_params.get("name")),
    )


async def watch_script(_request: Request) -> Response:
    return pages.static("presentation.js", "text/javascript; charset=utf-8")


async def watch_socket(websocket: WebSocket) -> None:
    """One attendee: joined as a participant, fed parts until the end."""
    runtime: Runtime = websocket.app.state.runtime
    token = websocket.path_params["token"]
    lsid = await asyncio.to_thread(_live_lsid, runtime, token)
    live = presentations_of(runtime).live.get(lsid or "")
    await websocket.accept()
    if live is None:
        await websocket.close(UNKNOWN_CLOSE, "no such presentation")
        return

    name = _name(websocket.query_params.get("name"))
    address = websocket.client.host if websocket.client else "Unknown"
    settings = runtime.settings
    refused = live.seat(
        address,
        settings.max_presentation_attendees,
        settings.max_attendees_per_address,
    )
    if refused is not None:
        await _refuse(websocket, refused)
        return
    try:
        await _attend(websocket, runtime, live, name, peers.public_ip(websocket.client))
    finally:
        live.unseat(address)


async def _attend(
    websocket: WebSocket,
    runtime: Runtime,
    live: LivePresentation,
    name: str,
    public_ip: str,
) -> None:
    try:
        gs = await asyncio.to_thread(_join, runtime, live.lsid, name, public_ip)
    except (SessionStateError, NotFound):
        await _ended(websocket)
        return
    try:
        if presentations_of(runtime).live.get(live.lsid) is not live:
            await _ended(websocket)  # it ended while the attendee joined
            return
        attendee = Attendee(gs, name)
        live.admit(attendee)
        await websocket.send_json(
            {"type": "presentation", "lsid": live.lsid, "gsnumber": gs}
        )
        await _serve(websocket, attendee)
    finally:
        live.attendees.pop(gs, None)
        await asyncio.to_thread(_leave, runtime, live, gs)


async def _refuse(websocket: WebSocket, message: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"type": "refused", "message": message})
        await websocket.close(REFUSED_CLOSE, message[:120])


async def _ended(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"type": "ended"})
        await websocket.close(ENDED_CLOSE, "the presentation ended")


async def _serve(websocket: WebSocket, attendee: Attendee) -> None:
    """Send parts until the presentation ends or the browser goes."""

    async def listen() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass

    listener = asyncio.create_task(listen())
    try:
        while True:
            getter = asyncio.create_task(attendee.next())
            done, _ = await asyncio.wait(
                {getter, listener}, return_when=asyncio.FIRST_COMPLETED
            )
            if listener in done:
                getter.cancel()
                return
            part = getter.result()
            if part is None:
                await websocket.send_json({"type": "ended"})
                await websocket.close(ENDED_CLOSE, "the presentation ended")
                return
            await websocket.send_bytes(part)
    except (WebSocketDisconnect, RuntimeError):
        return  # the browser went while a part was on its way
    finally:
        listener.cancel()


def _join(runtime: Runtime, lsid: str, name: str, public_ip: str) -> int:
    with runtime.write_db() as db, db.begin():
        return store.join(db, lsid, name, public_ip)


def _leave(runtime: Runtime, live: LivePresentation, gs: int) -> None:
    with runtime.write_db() as db, db.begin(), contextlib.suppress(NotFound):
        store.leave(db, live.lsid, gs)
