"""Authenticating XML API requests: bearer tokens and legacy logins."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from lxml import etree
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from serverkit import LiveServer, demo_server
from supportbox import features
from supportbox.api.auth import authenticate, require
from supportbox.auth.tokens import issue
from supportbox.directory import api_accounts, users
from supportbox.errors import PermissionDenied
from supportbox.storage.models import ApiToken, AuditEvent, User

LOGIN_FAILED = '<?xml version="1.0" encoding="UTF-8"?>\n\n<error>Login failed</error>\n'


async def whoami(request: Request) -> Response:
    """A probe that answers with the caller, as an API handler sees it."""
    principal = await authenticate(request, request.app.state.runtime)
    if isinstance(principal, Response):
        return principal
    perm = request.query_params.get("require")
    if perm:
        try:
            require(principal, perm)
        except PermissionDenied as exc:
            return PlainTextResponse(str(exc), status_code=403)
    return JSONResponse(
        {
            "kind": principal.kind,
            "name": principal.name,
            "permissions": dict(principal.permissions),
            "roles": sorted(principal.roles),
        }
    )


def probe_routes() -> list[BaseRoute]:
    return [*features.routes(), Route("/probe", whoami, methods=["GET", "POST"])]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("auth"), probe_routes()) as server:
        yield server


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp("legacy")
    with demo_server(base, probe_routes(), legacy_api_auth=True) as server:
        yield server


def mint(live: LiveServer) -> str:
    api = live.credentials["api"]
    with live.http() as http:
        response = http.post(
            "/oauth2/token",
            auth=(api["client_id"], api["client_secret"]),
            data={"grant_type": "client_credentials"},
        )
    token: str = response.json()["access_token"]
    return token


def probe(live: LiveServer, token: str, **params: str) -> httpx.Response:
    with live.http() as http:
        return http.get(
            "/probe", params=params, headers={"Authorization": f"Bearer {token}"}
        )


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert "<error" in response.text


def test_a_valid_bearer_token_authenticates_the_account(live: LiveServer) -> None:
    response = probe(live, mint(live))
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "account"
    assert body["name"] == "demo-integration"
    assert body["permissions"]["perm_command"] == "full_access"
    assert body["permissions"]["perm_reporting_support"] == "1"


def test_a_missing_token_gets_401_invalid_token(live: LiveServer) -> None:
    with live.http() as http:
        assert_invalid_token(http.get("/probe"))


def test_an_unknown_token_gets_401_and_an_audit_row(live: LiveServer) -> None:
    assert_invalid_token(probe(live, "A" * 40))
    with live.runtime.db() as db:
        row = db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "api.bearer", AuditEvent.outcome == "failed"
            )
        )
    assert row is not None
    assert "A" * 40 not in row.actor + repr(row.detail)


def test_an_expired_token_gets_401(live: LiveServer) -> None:
    token = mint(live)
    with live.runtime.db() as db, db.begin():
        newest = db.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
        assert newest is not None
        newest.expires_at = time.time() - 1
    assert_invalid_token(probe(live, token))


def test_the_31st_token_retires_the_oldest(live: LiveServer) -> None:
    # Thirty straight from the store (fast), the 31st over HTTP.
    with live.runtime.db() as db, db.begin():
        account = api_accounts.get(db, "demo-integration")
        tokens = [issue(db, account, time.time() + i / 1000) for i in range(30)]
    tokens.append(mint(live))
    assert_invalid_token(probe(live, tokens[0]))
    assert probe(live, tokens[1]).status_code == 200
    assert probe(live, tokens[30]).status_code == 200
    with live.runtime.db() as db:
        valid = db.scalars(
            select(ApiToken).where(
                ApiToken.revoked.is_(False), ApiToken.expires_at > time.time()
            )
        ).all()
    assert len(valid) == 30


def test_require_refuses_a_permission_the_account_lacks(live: LiveServer) -> None:
    token = mint(live)
    assert probe(live, token, require="perm_backup").status_code == 200
    with live.runtime.db() as db, db.begin():
        account = api_accounts.get(db, "demo-integration")
        account.perm_backup = False
    refused = probe(live, token, require="perm_backup")
    assert refused.status_code == 403
    assert "perm_backup" in refused.text
    with live.runtime.db() as db, db.begin():
        api_accounts.get(db, "demo-integration").perm_backup = True


def test_username_parameters_are_refused_while_legacy_auth_is_off(
    live: LiveServer,
) -> None:
    with live.http() as http:
        response = http.get(
            "/probe", params={"username": "admin", "password": "demo-admin-pass"}
        )
    assert_invalid_token(response)
    assert "turned off" in response.text


def test_regenerating_the_secret_revokes_every_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with demo_server(tmp_path_factory.mktemp("regen"), probe_routes()) as live:
        token = mint(live)
        assert probe(live, token).status_code == 200
        with live.runtime.db() as db, db.begin():
            api_accounts.regenerate_secret(db, "demo-integration")
        assert_invalid_token(probe(live, token))


def test_disabling_the_account_revokes_every_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with demo_server(tmp_path_factory.mktemp("disable"), probe_routes()) as live:
        token = mint(live)
        with live.runtime.db() as db, db.begin():
            api_accounts.set_enabled(db, "demo-integration", False)
        assert_invalid_token(probe(live, token))
        with live.runtime.db() as db, db.begin():
            api_accounts.set_enabled(db, "demo-integration", True)
        assert_invalid_token(probe(live, token))


ADMIN = {"username": "admin", "password": "demo-admin-pass"}


def test_legacy_login_works_in_the_query_string(legacy: LiveServer) -> None:
    with legacy.http() as http:
        response = http.get("/probe", params=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "user"
    assert body["name"] == "admin"
    assert body["roles"] == ["admin", "support"]
    assert body["permissions"]["perm_command"] == "full_access"


def test_legacy_login_works_in_an_urlencoded_body(legacy: LiveServer) -> None:
    with legacy.http() as http:
        response = http.post("/probe", data=ADMIN)
    assert response.json()["name"] == "admin"


def test_legacy_login_works_in_a_multipart_body(legacy: LiveServer) -> None:
    with legacy.http() as http:
        files = {k: (None, v) for k, v in ADMIN.items()}
        response = http.post("/probe", files=files)
    assert response.json()["name"] == "admin"


@pytest.mark.parametrize(
    "params",
    [
        {"username": "admin", "password": "wrong"},
        {"username": "nobody", "password": "demo-admin-pass"},
        {"username": "alice", "password": "demo-rep-pass"},  # no perm_api
        {"username": "admin"},
    ],
    ids=["wrong password", "unknown user", "no api permission", "no password"],
)
def test_failed_legacy_logins_answer_exactly_login_failed(
    legacy: LiveServer, params: dict[str, str]
) -> None:
    with legacy.http() as http:
        response = http.post("/probe", data=params)
    assert response.status_code == 200
    assert response.text == LOGIN_FAILED
    with legacy.runtime.db() as db:
        rows = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "api.login", AuditEvent.outcome == "failed"
            )
        ).all()
    # An unknown name may be a password typed in the wrong field.
    known = params["username"] != "nobody"
    actor = params["username"] if known else "unknown name (6 characters)"
    assert any(r.actor == actor for r in rows)
    assert all("demo-admin-pass" not in repr(r.detail) for r in rows)
    # Successes also leave an audit row (this module's earlier logins).
    with legacy.runtime.db() as db:
        ok = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "api.login", AuditEvent.outcome == "ok"
            )
        ).all()
    assert all(r.actor == "admin" for r in ok)


def test_a_disabled_user_cannot_log_in(legacy: LiveServer) -> None:
    with legacy.runtime.db() as db, db.begin():
        users.update(db, "bob", enabled=False, permissions={"perm_api": True})
    with legacy.http() as http:
        response = http.get(
            "/probe", params={"username": "bob", "password": "demo-rep-pass"}
        )
    assert response.text == LOGIN_FAILED
    with legacy.runtime.db() as db, db.begin():
        db.execute(update(User).where(User.username == "bob").values(enabled=True))


def test_ten_failed_legacy_logins_lock_out_the_user(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.mktemp("legacylock")
    wrong = {"username": "admin", "password": "wrong"}
    with demo_server(base, probe_routes(), legacy_api_auth=True) as live:
        http = live.http()
        for _ in range(10):
            assert http.get("/probe", params=wrong).text == LOGIN_FAILED
        locked = http.get("/probe", params=ADMIN)
        http.close()
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "<error>" in locked.text


def test_wrong_bearer_tokens_lock_the_address_without_more_audit_rows(
    server: LiveServer,
) -> None:
    def bearer_failures() -> int:
        with server.runtime.db() as db:
            rows = db.scalars(
                select(AuditEvent).where(AuditEvent.action == "api.bearer")
            ).all()
        return len(rows)

    command = {"action": "get_api_info"}
    with server.http() as http:
        for i in range(10):
            wrong = {"Authorization": f"Bearer wrong-{i}"}
            assert_invalid_token(
                http.get("/api/command", params=command, headers=wrong)
            )
        assert bearer_failures() == 10

        right = {"Authorization": f"Bearer {mint(server)}"}
        for headers in ({"Authorization": "Bearer wrong-10"}, right):
            locked = http.get("/api/command", params=command, headers=headers)
            assert locked.status_code == 429
            assert 0 < int(locked.headers["retry-after"]) <= 300
            assert locked.headers["content-type"] == "text/xml; charset=UTF-8"
            error = etree.fromstring(locked.content)
            assert etree.QName(error).localname == "error"
            assert "too many failed attempts" in (error.text or "")
    assert bearer_failures() == 10
