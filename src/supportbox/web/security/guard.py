"""Who is logged in, what they may open, and the CSRF check.

Page handlers are wrapped by :func:`page` (a synchronous body, run in a
worker thread with a database session) or :func:`action` (an async body
for live work). Both find the login from the cookie, send strangers to
``/login``, refuse users without the permission with a 403 page, and
check the CSRF token of every POST before the body runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.websockets import WebSocket

from supportbox.auth.secure import secure_equal
from supportbox.errors import NotFound, PermissionDenied
from supportbox.runtime import Runtime
from supportbox.web.pages import error_page
from supportbox.web.security import store

COOKIE = "sb_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

#: What a handler needs: "any" logged-in user, "admin", "reports", "support".
Need = str

SyncBody = Callable[[Request, store.Login, FormData, Session], Response]
AsyncBody = Callable[[Request, store.Login, FormData], Awaitable[Response]]
Handler = Callable[[Request], Awaitable[Response]]


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def is_https(request: Request) -> bool:
    # uvicorn runs with proxy_headers, so a trusted proxy's
    # X-Forwarded-Proto has already set the scheme.
    return request.url.scheme in {"https", "wss"}


def same_origin(websocket: WebSocket) -> bool:
    """False when a browser opened the socket from another site's page."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser; the cookie must still be right
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


def current_login(request: Request) -> store.Login | None:
    raw = request.cookies.get(COOKIE, "")
    if not raw:
        return None
    with runtime_of(request).db() as db:
        return store.lookup(db, raw)


def allowed(login: store.Login, need: Need) -> bool:
    if need == "admin":
        return login.perm_admin
    if need == "reports":
        return login.may_report
    if need == "support":
        return login.perm_support
    return True


def csrf_ok(login: store.Login, request: Request, form: FormData) -> bool:
    sent = request.headers.get(CSRF_HEADER) or str(form.get(CSRF_FIELD) or "")
    return bool(sent) and secure_equal(sent, login.csrf_token)


def forbidden_csrf(request: Request) -> Response:
    return error_page(
        request,
        403,
        "Form expired",
        "This form was missing its security token or the token did not match "
        "your login. Go back, reload the page and try again.",
    )


def must_enrol(request: Request, login: store.Login) -> bool:
    """An administrator without TOTP, where the settings demand it."""
    settings = runtime_of(request).settings
    return settings.require_admin_totp and login.perm_admin and not login.has_totp


def landing(login: store.Login) -> str:
    """Where a user goes after logging in."""
    if login.perm_admin or (login.perm_reports and not login.perm_support):
        return "/admin"
    return "/console"


async def _gate(
    request: Request, need: Need
) -> tuple[store.Login, FormData] | Response:
    login = await run_in_threadpool(current_login, request)
    if login is None:
        target = quote(request.url.path)
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if login.second_factor_due:
        return RedirectResponse("/login/code", status_code=303)
    if need != "any" and must_enrol(request, login):
        return RedirectResponse("/account/totp", status_code=303)
    if not allowed(login, need):
        return error_page(
            request,
            403,
            "Not allowed",
            f"Your account ({login.username}) may not open this page.",
        )
    form = FormData()
    if request.method == "POST":
        form = await request.form()
        if not csrf_ok(login, request, form):
            return forbidden_csrf(request)
    return login, form


def _not_found(request: Request, exc: NotFound | PermissionDenied) -> Response:
    if isinstance(exc, PermissionDenied):
        return error_page(request, 403, "Not allowed", str(exc))
    return error_page(request, 404, "Not found", str(exc))


def page(need: Need) -> Callable[[SyncBody], Handler]:
    """Wrap a synchronous handler that gets a database session."""

    def wrap(body: SyncBody) -> Handler:
        @wraps(body)
        async def handler(request: Request) -> Response:
            gate = await _gate(request, need)
            if isinstance(gate, Response):
                return gate
            login, form = gate

            def run() -> Response:
                runtime = runtime_of(request)
                # Reads share the database; a POST locks it for its change.
                opened = runtime.write_db if request.method == "POST" else runtime.db
                with opened() as db, db.begin():
                    return body(request, login, form, db)

            try:
                return await run_in_threadpool(run)
            except (NotFound, PermissionDenied) as exc:
                return _not_found(request, exc)

        return handler

    return wrap


def action(need: Need) -> Callable[[AsyncBody], Handler]:
    """Wrap an async handler (live console work through the hub)."""

    def wrap(body: AsyncBody) -> Handler:
        @wraps(body)
        async def handler(request: Request) -> Response:
            gate = await _gate(request, need)
            if isinstance(gate, Response):
                return gate
            login, form = gate
            try:
                return await body(request, login, form)
            except (NotFound, PermissionDenied) as exc:
                return _not_found(request, exc)

        return handler

    return wrap
