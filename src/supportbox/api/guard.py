"""The one error guard of the XML APIs (command, reporting, backup).

A :class:`~supportbox.errors.SupportboxError` that escapes an endpoint
becomes an ``<error>`` document carrying its message; any other
exception is logged at ERROR with its traceback and answered with a
generic ``<error>``, so the peer never sees internals or a plain 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

from supportbox.errors import SupportboxError
from supportbox.logs import log
from supportbox.runtime import Runtime
from supportbox.xml import writer

Endpoint = Callable[[Request], Awaitable[Response]]

GENERIC = "the server could not complete the request; see its log"


def _ok(_exc: SupportboxError) -> int:
    return 200


def xml_errors(
    api: str,
    *,
    status: Callable[[SupportboxError], int] = _ok,
    failure_status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint of the XML API ``api`` (its namespace family).

    ``status`` picks the HTTP status of a refusal and ``failure_status``
    that of a crash; both are 200 unless an API says otherwise.
    """

    def answer(request: Request, message: str, code: int) -> Response:
        runtime: Runtime = request.app.state.runtime
        body = writer.error_document(message, runtime.settings.namespace(api))
        return Response(
            body,
            status_code=code,
            media_type=writer.CONTENT_TYPE,
            headers=dict(headers or {}),
        )

    def wrap(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            try:
                return await endpoint(request)
            except SupportboxError as exc:
                return answer(request, str(exc), status(exc))
            except Exception:
                log.exception("%s API request %s failed", api, request.url.path)
                return answer(request, GENERIC, failure_status)

        return guarded

    return wrap
