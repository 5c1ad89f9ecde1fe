"""What the console does: JSON requests with the login's CSRF header.

Each answers ``{"ok": true, ...}`` or ``{"error": "..."}`` with a 4xx
status; the live feed then carries the resulting events.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from supportbox.core.hub import Hub
from supportbox.core.queues import QueueRef
from supportbox.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    SessionStateError,
)
from supportbox.web.console import views
from supportbox.web.security import store
from supportbox.web.security.guard import action, runtime_of

Body = dict[str, Any]


async def _body(request: Request) -> Body:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidInput("the request is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("the request is not a JSON object")
    return data


def _text(body: Body, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    return value


def _hub(request: Request) -> Hub:
    hub: Hub = runtime_of(request).services["hub"]
    return hub


async def _my_gs(request: Request, lsid: str, login: store.Login) -> int:
    state = await _hub(request).state(lsid)
    gs = state.rep_gs(login.user_id)
    if gs is None:
        raise PermissionDenied("you are not in this session")
    return gs


def _answer(result: Any = None) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


async def _guarded(request: Request, login: store.Login, what: str) -> Response:
    """Run one console command; known failures become a JSON error."""
    try:
        return await _COMMANDS[what](request, login)
    except (InvalidInput, SessionStateError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    except PermissionDenied as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    except NotFound as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)


async def _accept(request: Request, login: store.Login) -> Response:
    body = await _body(request)
    gs = await _hub(request).accept(_text(body, "lsid"), login.user_id)
    return _answer({"gsnumber": gs})


async def _detail(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    await _my_gs(request, lsid, login)

    def read() -> dict[str, Any]:
        with runtime_of(request).db() as db:
            return views.session_detail(db, lsid, login.user_id)

    return _answer(await asyncio.to_thread(read))


async def _chat(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    event = await _hub(request).chat(lsid, gs, _text(await _body(request), "body"))
    return _answer({"seq": event.seq})


async def _note(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    await _hub(request).add_note(lsid, gs, _text(await _body(request), "text"))
    return _answer()


async def _custom(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    values = (await _body(request)).get("values", {})
    if not isinstance(values, dict) or not all(
        isinstance(v, str) for v in values.values()
    ):
        raise InvalidInput("values must map field code names to text")
    await _hub(request).set_custom(lsid, {str(k): v for k, v in values.items()}, gs)
    return _answer()


async def _transfer(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    queue = QueueRef.parse(_text(await _body(request), "queue"))
    await _hub(request).transfer(lsid, queue, gs)
    return _answer()


async def _invite(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    await _my_gs(request, lsid, login)
    user_id = (await _body(request)).get("user_id")
    if not isinstance(user_id, int):
        raise InvalidInput("user_id must be a number")
    hub = _hub(request)
    await hub.join(lsid, user_id, invited=True)
    await hub.broker.publish(f"rep:{user_id}", {"type": "invited", "lsid": lsid})
    return _answer()


async def _leave(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    await _hub(request).leave(lsid, gs)
    return _answer()


async def _end(request: Request, login: store.Login) -> Response:
    """End the session for everyone, then store the rep's exit survey."""
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    answers = (await _body(request)).get("survey", {})
    if not isinstance(answers, dict):
        raise InvalidInput("survey must map question names to answers")
    hub = _hub(request)
    await hub.end(lsid, gs)
    clean = {str(k): str(v)[:4000] for k, v in answers.items() if str(v).strip()}
    if clean:
        await hub.submit_survey(lsid, gs, clean)
    return _answer()


_COMMANDS = {
    "accept": _accept,
    "detail": _detail,
    "chat": _chat,
    "note": _note,
    "custom": _custom,
    "transfer": _transfer,
    "invite": _invite,
    "leave": _leave,
    "end": _end,
}


def _endpoint(what: str) -> Any:
    @action("support")
    async def handler(request: Request, login: store.Login, form: FormData) -> Response:
        return await _guarded(request, login, what)

    return handler


_S = "/console/api/sessions/{lsid}"

routes = [
    Route("/console/api/accept", _endpoint("accept"), methods=["POST"]),
    Route(_S, _endpoint("detail"), methods=["GET"]),
    *(
        Route(f"{_S}/{what}", _endpoint(what), methods=["POST"])
        for what in ("chat", "note", "custom", "transfer", "invite", "leave", "end")
    ),
]
