"""What the console asks over HTTP: the live protocol carries the rest.

``GET /console/api/sessions/{lsid}`` gives the side panel's details and
``POST .../custom`` sets custom session fields (with the CSRF header).
Each answers ``{"ok": true, "result": ...}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from supportbox.core.hub import Hub
from supportbox.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    SessionStateError,
)
from supportbox.web.console import views
from supportbox.web.security import store
from supportbox.web.security.guard import action, runtime_of

Command = Callable[[Request, store.Login], Awaitable[Response]]


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


async def _detail(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    await _my_gs(request, lsid, login)

    def read() -> dict[str, Any]:
        with runtime_of(request).db() as db:
            return views.session_detail(db, lsid, login.user_id)

    return _answer(await asyncio.to_thread(read))


async def _custom(request: Request, login: store.Login) -> Response:
    lsid = request.path_params["lsid"]
    gs = await _my_gs(request, lsid, login)
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidInput("the request is not JSON") from None
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(v, str) for v in values.values()
    ):
        raise InvalidInput("values must map field code names to text")
    await _hub(request).set_custom(lsid, {str(k): v for k, v in values.items()}, gs)
    return _answer()


def _endpoint(command: Command) -> Any:
    @action("support")
    async def handler(request: Request, login: store.Login, form: FormData) -> Response:
        try:
            return await command(request, login)
        except (InvalidInput, SessionStateError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except PermissionDenied as exc:
            return JSONResponse({"error": str(exc)}, status_code=403)
        except NotFound as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    return handler


_S = "/console/api/sessions/{lsid}"

routes = [
    Route(_S, _endpoint(_detail), methods=["GET"]),
    Route(f"{_S}/custom", _endpoint(_custom), methods=["POST"]),
]
