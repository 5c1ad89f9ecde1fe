"""Who is calling an XML API, and what they may do (spec 2).

Handlers of the Command, Reporting and Backup APIs start with::

    principal = await authenticate(request, runtime, api="reporting")
    if isinstance(principal, Response):
        return principal
    require(principal, "perm_reporting_support")   # raises PermissionDenied

A bearer token is tried first. Legacy ``username``/``password``
parameters are tried only when the ``legacy_api_auth`` setting is on, and
only for enabled users allowed to use the API (spec 2.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from supportbox.api.params import Params, gather
from supportbox.auth import audit, ratelimit, tokens
from supportbox.directory import api_accounts, users
from supportbox.errors import InvalidInput, PermissionDenied, RateLimited
from supportbox.runtime import Runtime
from supportbox.storage.models import ApiAccount, User
from supportbox.xml import writer

ACCOUNT = "account"
USER = "user"

#: Values of a permission that grant it (``perm_command`` has levels).
GRANTED = frozenset({"1", "full_access", "read_only"})

LOGIN_FAILED = "Login failed"


@dataclass(frozen=True)
class Principal:
    """An authenticated API caller: an API account or a legacy user.

    ``permissions`` maps every name of spec 2.3 to the text ``get_api_info``
    shows for it. ``roles`` holds a legacy user's ``support`` and
    ``admin`` rights, which decide the Command API actions it may use.
    """

    kind: str
    id: int
    name: str
    permissions: Mapping[str, str]
    roles: frozenset[str] = field(default_factory=frozenset)
    client_ip: str = ""

    @property
    def command_level(self) -> str:
        return self.permissions.get("perm_command", "deny")

    def has(self, perm: str) -> bool:
        return self.permissions.get(perm, "0") in GRANTED


def require(principal: Principal, perm: str) -> None:
    """Raise :class:`PermissionDenied` unless ``principal`` holds ``perm``."""
    if not principal.has(perm):
        raise PermissionDenied(f"{principal.name!r} does not hold {perm}")


def account_principal(account: ApiAccount, client_ip: str = "") -> Principal:
    permissions = {
        perm: api_accounts.permission_value(account, perm)
        for perm in api_accounts.PERMISSIONS
    }
    return Principal(
        ACCOUNT, account.id, account.name, permissions, client_ip=client_ip
    )


def user_principal(user: User, client_ip: str = "") -> Principal:
    """A legacy user, mapped onto the API account permissions (spec 2.1)."""
    reports = "1" if user.perm_reports else "0"
    full = user.perm_admin or user.perm_support
    permissions = {perm: "0" for perm in api_accounts.PERMISSIONS}
    permissions["perm_command"] = "full_access" if full else "read_only"
    for perm in api_accounts.REPORTING:
        permissions[perm] = reports
    permissions["perm_backup"] = "1" if user.perm_admin else "0"
    roles = {"admin"} if user.perm_admin else set()
    if user.perm_support:
        roles.add("support")
    return Principal(
        USER, user.id, user.username, permissions, frozenset(roles), client_ip
    )


def xml_response(body: str, status: int = 200, /, **headers: str) -> Response:
    """An XML document with the appliance's Content-Type."""
    return Response(
        body, status_code=status, media_type=writer.CONTENT_TYPE, headers=headers
    )


def _unauthorized(message: str, namespace: str) -> Response:
    return xml_response(
        writer.error_document(message, namespace),
        401,
        **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _audit(
    runtime: Runtime,
    action: str,
    actor: str,
    outcome: str,
    ip: str,
    typed: bool = True,
    **detail: str,
) -> None:
    with runtime.write_db() as db, db.begin():
        audit.record(db, action, actor, outcome, ip, typed=typed, **detail)


def _bearer(runtime: Runtime, token: str, ip: str) -> Principal | None:
    with runtime.db() as db:
        account = tokens.resolve(db, token)
        principal = None if account is None else account_principal(account, ip)
    if principal is None:
        _audit(runtime, "api.bearer", "unknown token", audit.FAILED, ip, False)
    return principal


def _legacy(
    runtime: Runtime, username: str, password: str, ip: str
) -> Principal | None:
    # The hash check takes long enough for a heartbeat to commit in
    # between; on SQLite only a transaction begun as a writer can then write.
    with runtime.write_db() as db, db.begin():
        user = users.authenticate(db, username, password)
        principal = None
        if user is not None and user.perm_api:
            principal = user_principal(user, ip)
    if principal is None:
        reason = "wrong credentials" if user is None else "no API permission"
        _audit(runtime, "api.login", username, audit.FAILED, ip, reason=reason)
        return None
    _audit(runtime, "api.login", principal.name, audit.OK, ip)
    return principal


async def authenticate(
    request: Request,
    runtime: Runtime,
    *,
    api: str = "command",
    params: Params | None = None,
    legacy_failure: str = LOGIN_FAILED,
) -> Principal | Response:
    """The caller of ``request``, or the response that refuses it.

    A missing, unknown, expired or revoked bearer token gets HTTP 401 with
    ``WWW-Authenticate: Bearer error="invalid_token"``. Wrong legacy
    credentials get HTTP 200 and exactly ``<error>Login failed</error>``
    (``legacy_failure``) without a namespace, as old clients match it.
    """
    namespace = runtime.settings.namespace(api)
    ip = request.client.host if request.client else ""

    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return await _bearer_login(runtime, token.strip(), ip, namespace)

    if params is None:
        try:
            params = await gather(request)
        except InvalidInput:
            params = Params()
    if "username" not in params:
        return _unauthorized("an OAuth2 bearer token is required", namespace)
    if not runtime.settings.legacy_api_auth:
        return _unauthorized(
            "username/password authentication is turned off; "
            "use an OAuth2 bearer token",
            namespace,
        )
    return await _legacy_login(runtime, params, ip, legacy_failure)


async def _bearer_login(
    runtime: Runtime, token: str, ip: str, namespace: str
) -> Principal | Response:
    """Wrong tokens count against the address; a locked one is not looked up.

    The key is apart from the logins' ``ip:`` key, so that a client whose
    token went stale can still ask the token endpoint for a new one. While
    the address is locked nothing is audited: guesses cost no write.
    """
    limiter = ratelimit.of(runtime)
    key = f"bearer:{ip}"
    try:
        limiter.check(key)
    except RateLimited as exc:
        body = writer.error_document(str(exc), namespace)
        return xml_response(body, 429, **{"Retry-After": str(exc.retry_after)})

    principal = await run_in_threadpool(_bearer, runtime, token, ip)
    if principal is None:
        limiter.failure(key)
        return _unauthorized("the bearer token is unknown or expired", namespace)
    return principal


async def _legacy_login(
    runtime: Runtime, params: Params, ip: str, failure: str
) -> Principal | Response:
    limiter = ratelimit.of(runtime)
    username = params.get("username", "")
    keys = ratelimit.login_keys(ip, username)
    try:
        for key in keys:
            limiter.check(key)
    except RateLimited as exc:
        body = writer.error_document(str(exc), "")
        return xml_response(body, 429, **{"Retry-After": str(exc.retry_after)})

    password = params.get("password", "")
    principal = await run_in_threadpool(_legacy, runtime, username, password, ip)
    if principal is None:
        for key in keys:
            limiter.failure(key)
        return xml_response(writer.error_document(failure, ""))
    limiter.success(keys[1])
    return principal
