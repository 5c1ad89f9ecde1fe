"""POST /oauth2/token: every request shape integrations use, and refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from serverkit import LiveServer, demo_server
from supportbox.auth.ratelimit import Limiter
from supportbox.errors import RateLimited
from supportbox.storage.models import AuditEvent

FORM = {"grant_type": "client_credentials"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("oauth")) as server:
        yield server


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with live.http() as client:
        yield client


def creds(live: LiveServer) -> tuple[str, str]:
    api = live.credentials["api"]
    return api["client_id"], api["client_secret"]


def assert_token(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    token: str = body["access_token"]
    assert re.fullmatch(r"[A-Za-z0-9]{40}", token)
    return token


def test_basic_auth_with_an_urlencoded_grant_gets_a_token(
    live: LiveServer, http: httpx.Client
) -> None:
    response = http.post("/oauth2/token", auth=creds(live), data=FORM)
    assert_token(response)
    assert response.headers["cache-control"] == "no-store"


def test_basic_auth_with_a_json_grant_gets_a_token(
    live: LiveServer, http: httpx.Client
) -> None:
    response = http.post("/oauth2/token", auth=creds(live), json=FORM)
    assert_token(response)


def test_credentials_in_the_form_body_get_a_token(
    live: LiveServer, http: httpx.Client
) -> None:
    client_id, secret = creds(live)
    form = {**FORM, "client_id": client_id, "client_secret": secret}
    assert_token(http.post("/oauth2/token", data=form))


def test_a_raw_body_without_content_type_gets_a_token(
    live: LiveServer, http: httpx.Client
) -> None:
    request = http.build_request(
        "POST",
        "/oauth2/token",
        content=b"grant_type=client_credentials",
        headers={"accept": "application/json"},
    )
    request.headers.pop("content-type", None)
    request.headers["authorization"] = httpx.BasicAuth(*creds(live))._auth_header
    assert "content-type" not in request.headers
    assert_token(http.send(request))


def test_a_raw_json_body_without_content_type_gets_a_token(
    live: LiveServer, http: httpx.Client
) -> None:
    response = http.post(
        "/oauth2/token", auth=creds(live), content=json.dumps(FORM).encode()
    )
    assert_token(response)


def test_a_doubled_slash_reaches_the_token_endpoint(
    live: LiveServer, http: httpx.Client
) -> None:
    assert_token(http.post(live.url + "//oauth2/token", auth=creds(live), data=FORM))


def test_two_requests_get_two_different_tokens(
    live: LiveServer, http: httpx.Client
) -> None:
    first = assert_token(http.post("/oauth2/token", auth=creds(live), data=FORM))
    second = assert_token(http.post("/oauth2/token", auth=creds(live), data=FORM))
    assert first != second


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"auth": ("nobody", "nothing"), "data": FORM}, 401, "invalid_client"),
        ({"data": FORM}, 401, "invalid_client"),
        (
            {"headers": {"authorization": "Basic !!!"}, "data": FORM},
            401,
            "invalid_client",
        ),
        ({"data": {}}, 400, "invalid_request"),
        ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "invalid_request",
        ),
        (
            {"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
            400,
            "invalid_request",
        ),
    ],
    ids=[
        "unknown client",
        "no credentials",
        "bad base64",
        "no grant",
        "other grant",
        "broken json",
        "json list",
    ],
)
def test_bad_token_requests_get_a_json_error(
    live: LiveServer,
    http: httpx.Client,
    kwargs: dict[str, Any],
    status: int,
    error: str,
) -> None:
    response = http.post("/oauth2/token", **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == error
    assert body["message"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


def test_a_wrong_secret_is_refused_and_audited_without_the_secret(
    live: LiveServer, http: httpx.Client
) -> None:
    client_id, _ = creds(live)
    assert_token(http.post("/oauth2/token", auth=creds(live), data=FORM))
    response = http.post(
        "/oauth2/token", auth=(client_id, "wrong-secret-xyz"), data=FORM
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"

    with live.runtime.db() as db:
        rows = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "api.token"))
        )
    failed = [r for r in rows if r.outcome == "failed"]
    assert any(r.actor == client_id for r in failed)
    assert any(r.outcome == "ok" and r.actor == "demo-integration" for r in rows)
    assert all("wrong-secret-xyz" not in repr(r.detail) for r in rows)
    assert all(r.client_ip == "127.0.0.1" for r in rows)


def test_a_get_is_not_allowed(http: httpx.Client) -> None:
    assert http.get("/oauth2/token").status_code == 405


def test_ten_failures_lock_out_the_address_with_retry_after(
    server: LiveServer,
) -> None:
    client_id = server.credentials["api"]["client_id"]
    secret = server.credentials["api"]["client_secret"]
    with server.http() as http:
        for _ in range(10):
            response = http.post("/oauth2/token", auth=(client_id, "bad"), data=FORM)
            assert response.status_code == 401
        locked = http.post("/oauth2/token", auth=(client_id, secret), data=FORM)
    assert locked.status_code == 429
    assert locked.json()["error"] == "too_many_requests"
    assert 0 < int(locked.headers["retry-after"]) <= 300


def test_the_limiter_unlocks_when_the_window_has_passed() -> None:
    now = [1000.0]
    limiter = Limiter(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("ip:1")
        limiter.failure("ip:1")
    with pytest.raises(RateLimited) as locked:
        limiter.check("ip:1")
    assert locked.value.retry_after == 60
    limiter.check("ip:2")

    now[0] += 30
    assert limiter.retry_after("ip:1") == 30
    now[0] += 30
    limiter.check("ip:1")


def test_a_success_clears_the_failures_of_a_key() -> None:
    limiter = Limiter(max_failures=2, window=60)
    limiter.failure("account:x")
    limiter.success("account:x")
    limiter.failure("account:x")
    limiter.check("account:x")
    limiter.failure("account:x")
    with pytest.raises(RateLimited):
        limiter.check("account:x")


def test_clearing_the_limiter_unlocks_every_key() -> None:
    limiter = Limiter(max_failures=1, window=60)
    limiter.failure("ip:1")
    limiter.failure("user:bob")
    limiter.clear()
    limiter.check("ip:1")
    limiter.check("user:bob")
