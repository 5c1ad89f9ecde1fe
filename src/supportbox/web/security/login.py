"""The login, second-factor and logout pages, and TOTP enrolment."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from supportbox.auth import audit
from supportbox.auth import links as auth_links
from supportbox.auth.ratelimit import login_keys
from supportbox.auth.ratelimit import of as limiter
from supportbox.auth.secure import secure_equal
from supportbox.directory import users
from supportbox.errors import PermissionDenied, RateLimited
from supportbox.web.pages import error_page, render
from supportbox.web.security import store, totp
from supportbox.web.security.guard import (
    COOKIE,
    client_ip,
    current_login,
    forbidden_csrf,
    is_https,
    landing,
    page,
    runtime_of,
)

LOGIN_CSRF_COOKIE = "sb_login_csrf"


def _safe_next(target: str) -> str:
    """A local path to return to after login, never another site."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def _login_form(
    request: Request, error: str = "", status: int = 200, username: str = ""
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status,
        login=None,
        error=error,
        csrf=token,
        username=username,
        next=_safe_next(request.query_params.get("next", "")),
    )
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login_page(request: Request) -> Response:
    login = await run_in_threadpool(current_login, request)
    if login is not None and not login.second_factor_due:
        return RedirectResponse(landing(login), status_code=303)
    return _login_form(request)


def _authenticate(request: Request, username: str, password: str) -> Response:
    """Check the password, start a web session, note it in the audit log."""
    runtime = runtime_of(request)
    ip = client_ip(request)
    with runtime.write_db() as db, db.begin():
        user = users.authenticate(db, username, password)
        if user is None:
            audit.record(db, "web.login", username, client_ip=ip, outcome="failed")
            return _login_form(request, "Wrong username or password.", 401, username)
        raw = store.create(
            db,
            user,
            hours=runtime.settings.web_session_hours,
            client_ip=ip,
            second_factor_due=bool(user.totp_secret),
        )
        store.purge_expired(db)
        audit.record(db, "web.login", user.username, client_ip=ip)
        login = store.lookup(db, raw)
    assert login is not None
    target = _safe_next(str(request.query_params.get("next", "")))
    if login.second_factor_due:
        target = "/login/code"
    response = RedirectResponse(target or landing(login), status_code=303)
    _set_cookie(
        request, response, COOKIE, raw, runtime.settings.web_session_hours * 3600
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def login_submit(request: Request) -> Response:
    form = await request.form()
    sent = str(form.get("csrf_token") or "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not secure_equal(sent, expected):
        return forbidden_csrf(request)
    username = str(form.get("username") or "").strip()[:100]
    password = str(form.get("password") or "")
    if not username or not password:
        return _login_form(request, "Enter your username and password.", 400, username)

    keys = login_keys(client_ip(request), username)
    throttle = limiter(runtime_of(request))
    try:
        for key in keys:
            throttle.check(key)
    except RateLimited as exc:
        response = _login_form(request, f"{str(exc).capitalize()}.", 429, username)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    response = await run_in_threadpool(_authenticate, request, username, password)
    for key in keys:
        if response.status_code == 303:
            throttle.success(key)
        else:
            throttle.failure(key)
    return response


async def code_page(request: Request) -> Response:
    login = await run_in_threadpool(current_login, request)
    if login is None:
        return RedirectResponse("/login", status_code=303)
    if not login.second_factor_due:
        return RedirectResponse(landing(login), status_code=303)
    if request.method == "GET":
        return render(request, "login_code.html", login=None, csrf=login.csrf_token)
    form = await request.form()
    if not secure_equal(str(form.get("csrf_token") or ""), login.csrf_token):
        return forbidden_csrf(request)

    runtime = runtime_of(request)
    key = f"web-totp:{login.user_id}"
    throttle = limiter(runtime)
    try:
        throttle.check(key)
    except RateLimited as exc:
        return error_page(request, 429, "Too many attempts", f"{exc}.")

    def check() -> bool:
        with runtime.write_db() as db, db.begin():
            user = users.get_by_id(db, login.user_id)
            good = totp.verify(user.totp_secret, str(form.get("code") or ""))
            ip = client_ip(request)
            outcome = "ok" if good else "failed"
            audit.record(db, "web.totp", user.username, client_ip=ip, outcome=outcome)
            if good:
                store.second_factor_done(db, login.session_hash)
            return good

    if not await run_in_threadpool(check):
        throttle.failure(key)
        return render(
            request,
            "login_code.html",
            401,
            login=None,
            csrf=login.csrf_token,
            error="That code is not right. Use the current code of your app.",
        )
    throttle.success(key)
    return RedirectResponse(landing(login), status_code=303)


async def logout(request: Request) -> Response:
    login = await run_in_threadpool(current_login, request)
    response = RedirectResponse("/login", status_code=303)
    if login is None:
        response.delete_cookie(COOKIE, path="/")
        return response
    form = await request.form()
    if not secure_equal(str(form.get("csrf_token") or ""), login.csrf_token):
        return forbidden_csrf(request)

    def end() -> None:
        with runtime_of(request).write_db() as db, db.begin():
            store.revoke(db, login.session_hash)
            audit.record(db, "web.logout", login.username, client_ip=client_ip(request))

    await run_in_threadpool(end)
    response.delete_cookie(COOKIE, path="/")
    return response


# The secret being enrolled travels in the form signed for this login,
# so that nobody can enrol a secret the server did not make.
PENDING = "totp-enrol"
PENDING_SECONDS = 900


def _pending_token(request: Request, login: store.Login, secret: str) -> str:
    signer = auth_links.signer(runtime_of(request))
    audience = f"user:{login.user_id}"
    return signer.issue(PENDING, secret, audience, PENDING_SECONDS)


def _pending_secret(request: Request, login: store.Login, token: str) -> str | None:
    """The secret of a genuine pending token of this login, else None."""
    try:
        claims = auth_links.signer(runtime_of(request)).verify(token[:512], PENDING)
    except PermissionDenied:
        return None
    if claims.audience != f"user:{login.user_id}":
        return None
    return claims.subject if totp.valid_secret(claims.subject) else None


async def enrol_page(request: Request) -> Response:
    return await _enrol_page(request)


@page("any")
def _enrol_page(
    request: Request, login: store.Login, form: FormData, db: Session
) -> Response:
    user = users.get_by_id(db, login.user_id)
    required = runtime_of(request).settings.require_admin_totp and user.perm_admin
    message, error = "", ""
    secret = totp.new_secret()
    if request.method == "POST":
        wanted = str(form.get("do") or "")
        code = str(form.get("code") or "")
        ip = client_ip(request)
        if wanted == "enable":
            pending = _pending_secret(request, login, str(form.get("pending") or ""))
            secret = pending or secret
            if pending is None:
                error = "This form has expired. Add the new secret and try again."
            elif totp.verify(secret, code):
                user.totp_secret = secret
                audit.record(db, "user.totp_enabled", user.username, client_ip=ip)
                message = "Two-step login is on. You will need a code next time."
            else:
                error = "That code does not match the secret. Try the next code."
        elif wanted == "disable" and not required:
            if totp.verify(user.totp_secret, code):
                user.totp_secret = None
                audit.record(db, "user.totp_disabled", user.username, client_ip=ip)
                message = "Two-step login is off."
            else:
                error = "That code is not right."
    return render(
        request,
        "totp.html",
        login=login,
        enrolled=bool(user.totp_secret),
        required=required,
        secret=secret,
        pending=_pending_token(request, login, secret),
        uri=totp.uri(secret, user.username),
        message=message,
        error=error,
    )


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/login/code", code_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account/totp", enrol_page, methods=["GET", "POST"]),
]
