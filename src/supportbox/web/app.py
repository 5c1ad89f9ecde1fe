"""Assembles the Starlette application from the feature packages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportbox import features
from supportbox.logs import access_log, log
from supportbox.runtime import Runtime


class AccessLog:
    """One INFO line per request: client, method, path, status, milliseconds.

    The query string is left out: legacy integrations put passwords in it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            client = scope.get("client")
            access_log.info(
                "%s %s %s %s %.1fms",
                client[0] if client else "-",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


class CollapseSlashes:
    """Treats ``//oauth2/token`` as ``/oauth2/token``; some clients double it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and "//" in scope["path"]:
            path = "/" + "/".join(p for p in scope["path"].split("/") if p)
            scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never leak internals to the peer; the traceback goes to the log.
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    return PlainTextResponse("internal error\n", status_code=500)


def build_app(runtime: Runtime, routes: list[BaseRoute] | None = None) -> Starlette:
    """The application, with every feature's services installed on ``runtime``."""
    features.install(runtime)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=features.routes() if routes is None else routes,
        lifespan=lifespan,
        middleware=[Middleware(CollapseSlashes), Middleware(AccessLog)],
        exception_handlers={Exception: _server_error},
    )
    app.state.runtime = runtime
    return app
