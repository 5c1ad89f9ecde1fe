"""``POST /oauth2/token``: the client-credentials grant (spec 2.2).

Accepted shapes (client-expectations 2): HTTP Basic with an urlencoded
or JSON ``grant_type``; ``client_id`` and ``client_secret`` in the form
body; no Content-Type at all. Success is exactly
``{"access_token": ..., "token_type": "Bearer", "expires_in": 3600}``.
Failures are JSON ``{"error", "message"}`` with 400, 401 or 429.
"""

from __future__ import annotations

import base64
import binascii

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from supportbox.api.params import Params, gather
from supportbox.auth import audit, tokens
from supportbox.auth.ratelimit import Limiter
from supportbox.errors import AuthError, InvalidInput, RateLimited
from supportbox.runtime import Runtime

GRANT = "client_credentials"
_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _failure(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="supportbox"', **(headers or {})}
    return JSONResponse(
        {"error": error, "message": message},
        status_code=status,
        headers={**_NO_CACHE, **(headers or {})},
    )


def _credentials(request: Request, params: Params) -> tuple[str, str]:
    """Client id and secret from HTTP Basic, else from the parameters."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("the Basic credentials are not valid base64") from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise AuthError("the Basic credentials have no secret")
        return client_id, secret

    client_id = params.get("client_id", "")
    secret = params.get("client_secret", "")
    if not client_id or not secret:
        raise AuthError(
            "client credentials are missing: send HTTP Basic or "
            "client_id and client_secret"
        )
    return client_id, secret


def _mint(runtime: Runtime, client_id: str, secret: str, ip: str) -> str | None:
    """A new token, or ``None`` for wrong credentials; audited either way."""
    with runtime.db() as db, db.begin():
        account = tokens.check_client(db, client_id, secret)
        if account is None:
            audit.record(db, "api.token", client_id, audit.FAILED, ip)
            return None
        token = tokens.issue(db, account)
        audit.record(db, "api.token", account.name, audit.OK, ip)
        return token


async def token_endpoint(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    limiter: Limiter = runtime.services["ratelimit"]
    ip = request.client.host if request.client else ""

    # Read the request: parameters, grant, credentials.
    try:
        params = await gather(request)
    except InvalidInput as exc:
        return _failure(400, "invalid_request", str(exc))
    grant = params.get("grant_type", "")
    if not grant:
        return _failure(400, "invalid_request", "grant_type is missing")
    if grant != GRANT:
        message = f"grant_type {grant!r} is not supported; use {GRANT}"
        return _failure(400, "unsupported_grant_type", message)
    try:
        client_id, secret = _credentials(request, params)
    except AuthError as exc:
        return _failure(401, "invalid_client", str(exc))

    # Check them, unless this address or account is locked out.
    keys = (f"ip:{ip}", f"account:{client_id}")
    try:
        for key in keys:
            limiter.check(key)
    except RateLimited as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        return _failure(429, "too_many_requests", str(exc), retry)
    token = await run_in_threadpool(_mint, runtime, client_id, secret, ip)
    if token is None:
        for key in keys:
            limiter.failure(key)
        message = "the client id or secret is wrong, or the account is disabled"
        return _failure(401, "invalid_client", message)
    limiter.success(keys[1])

    body = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": tokens.LIFETIME,
    }
    return JSONResponse(body, headers=_NO_CACHE)


routes = [Route("/oauth2/token", token_endpoint, methods=["POST"])]
