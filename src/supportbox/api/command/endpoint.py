"""``/api/command`` and ``/api/command.ns``, GET or POST; ``/api/command.xsd``.

Every answer the caller can act on is HTTP 200 with an XML document: the
action's root, ``<success>`` or ``<error>``. Only authentication failures
use other statuses (401, 429). A handler crash is logged and answered
with a generic ``<error>``; the peer never sees a traceback.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.api.auth import authenticate, xml_response
from supportbox.api.command import (  # noqa: F401  (they register actions)
    attributes,
    clients,
    info,
    keys,
    reps,
    sessions,
    teams,
)
from supportbox.api.command.call import Call
from supportbox.api.command.registry import ACTIONS, refusal
from supportbox.api.guard import xml_errors
from supportbox.api.params import Params, gather
from supportbox.errors import InvalidInput
from supportbox.runtime import Runtime
from supportbox.xml import schema, writer

#: Headers of the recorded responses (spec 1.3).
HEADERS = {
    "Cache-Control": "must-revalidate, no-cache, no-store, post-check=0, "
    "pre-check=0, private",
}


def _answer(root: writer.E, namespace: str) -> Response:
    return xml_response(writer.document(root, namespace), **HEADERS)


@xml_errors("command", headers=HEADERS)
async def command(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    namespace = runtime.settings.namespace("command")

    unreadable: InvalidInput | None = None
    try:
        params = await gather(request)
    except InvalidInput as exc:
        params, unreadable = Params(), exc
    principal = await authenticate(request, runtime, params=params)
    if isinstance(principal, Response):
        return principal
    if unreadable is not None:
        return _answer(writer.E("error", str(unreadable)), namespace)

    name = params.get("action", "")
    action = ACTIONS.get(name)
    if action is None:
        message = f"unknown action {name!r}" if name else "parameter action is required"
        return _answer(writer.E("error", message), namespace)
    reason = refusal(action, principal)
    if reason is not None:
        return _answer(writer.E("error", reason), namespace)

    root = await action.run(Call(runtime, principal, params))
    return _answer(root, namespace)


async def command_xsd(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    text = schema.load("command", runtime.settings.namespace("command"))
    return Response(text, media_type=writer.CONTENT_TYPE)


routes = [
    Route("/api/command", command, methods=["GET", "POST"]),
    Route("/api/command.ns", command, methods=["GET", "POST"]),
    Route("/api/command.xsd", command_xsd, methods=["GET"]),
]
