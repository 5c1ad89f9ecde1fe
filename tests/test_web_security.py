"""Web logins: cookies, CSRF, logout, TOTP, rate limits and who may open what."""

from __future__ import annotations

import pyotp
import pytest

import webclient
from serverkit import LiveServer
from supportbox.directory import users
from supportbox.storage.models import AuditEvent


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(
    server: LiveServer,
) -> None:
    creds = server.credentials["admin"]
    _client, plain = webclient.log_in(server, creds["username"], creds["password"])
    cookie = plain.headers["set-cookie"]
    assert "sb_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie

    # Behind a TLS proxy; httpx keeps Secure cookies off plain HTTP, so
    # the login form's cookie is sent by hand.
    proxied = server.http(headers={"X-Forwarded-Proto": "https"})
    form = proxied.get("/login")
    assert "Secure" in form.headers["set-cookie"]
    token = webclient.csrf_of(form.text)
    tls = proxied.post(
        "/login",
        data={**creds, "csrf_token": token},
        headers={"Cookie": f"sb_login_csrf={token}"},
    )
    assert tls.status_code == 303
    assert "Secure" in tls.headers["set-cookie"]


def test_a_post_without_or_with_a_wrong_csrf_token_gets_a_403_page(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    missing = client.post("/admin/teams", data={"name": "Sneaky"})
    wrong = client.post("/admin/teams", data={"name": "Sneaky", "csrf_token": "x"})
    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert "security token" in answer.text
    console = client.post("/console/api/sessions/x/custom", json={"values": {}})
    assert console.status_code == 403
    assert "Sneaky" not in client.get("/admin/teams").text

    login_page = server.http()
    assert login_page.post("/login", data={"username": "admin"}).status_code == 403


def test_a_form_with_the_right_token_is_accepted_and_audited(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    token = webclient.csrf_of(client.get("/admin/teams").text)
    answer = client.post("/admin/teams", data={"name": "Field", "csrf_token": token})
    assert answer.status_code == 303
    with server.runtime.db() as db:
        actions = [e.action for e in db.query(AuditEvent)]
        row = db.query(AuditEvent).filter_by(action="team.create").one()
    assert "web.login" in actions
    assert row.actor == "admin" and row.client_ip == "127.0.0.1"
    assert row.detail == {"team": "field"}


def test_logging_out_ends_the_session_on_the_server(server: LiveServer) -> None:
    client = webclient.admin(server)
    stolen = client.cookies["sb_session"]
    token = webclient.csrf_of(client.get("/admin").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303

    thief = server.http(cookies={"sb_session": stolen})
    answer = thief.get("/admin")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_disabling_a_user_ends_their_logins_at_once(server: LiveServer) -> None:
    bob = webclient.rep(server, 1)
    assert bob.get("/console").status_code == 200
    admin = webclient.admin(server)
    with server.runtime.db() as db:
        bob_id = users.get(db, "bob").id
    page = admin.get(f"/admin/users/{bob_id}")
    token = webclient.csrf_of(page.text)
    answer = admin.post(
        f"/admin/users/{bob_id}", data={"csrf_token": token, "do": "disable"}
    )
    assert answer.status_code == 303
    assert bob.get("/console").status_code == 303


def test_a_representative_cannot_open_admin_pages(server: LiveServer) -> None:
    rep = webclient.rep(server)
    for path in ("/admin", "/admin/users", "/admin/api-accounts", "/admin/audit"):
        answer = rep.get(path)
        assert answer.status_code == 403, path
        assert "may not open this page" in answer.text
    token = webclient.csrf_of(rep.get("/console").text)
    posted = rep.post("/admin/users", data={"csrf_token": token, "username": "x"})
    assert posted.status_code == 403


def test_strangers_are_sent_to_the_login_page(server: LiveServer) -> None:
    stranger = server.http()
    answer = stranger.get("/admin/users")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/admin/users"
    assert stranger.get("/console").status_code == 303


def test_a_wrong_password_is_refused_and_repeated_failures_are_rate_limited(
    server: LiveServer,
) -> None:
    client = server.http()
    token = webclient.csrf_of(client.get("/login").text)
    form = {"username": "carol", "password": "wrong-password", "csrf_token": token}
    statuses = [client.post("/login", data=form).status_code for _ in range(10)]
    assert statuses == [401] * 10

    right = dict(form, password=server.credentials["reps"][2]["password"])
    locked = client.post("/login", data=right)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "too many failed attempts" in locked.text.lower()


def test_a_user_with_totp_needs_the_current_code_after_the_password(
    server: LiveServer,
) -> None:
    creds = server.credentials["admin"]
    client = webclient.admin(server)
    page = client.get("/account/totp").text
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0].strip()
    assert "otpauth://totp/" in page
    token = webclient.csrf_of(page)
    wrong = client.post(
        "/account/totp",
        data={"csrf_token": token, "do": "enable", "secret": secret, "code": "000000"},
    )
    assert "does not match" in wrong.text
    code = pyotp.TOTP(secret).now()
    enabled = client.post(
        "/account/totp",
        data={"csrf_token": token, "do": "enable", "secret": secret, "code": code},
    )
    assert "Two-step login is on" in enabled.text

    fresh, answer = webclient.log_in(server, creds["username"], creds["password"])
    assert answer.headers["location"] == "/login/code"
    assert fresh.get("/admin").headers["location"] == "/login/code"
    code_page = fresh.get("/login/code")
    token = webclient.csrf_of(code_page.text)
    bad = fresh.post("/login/code", data={"csrf_token": token, "code": "123456"})
    assert bad.status_code == 401
    good = fresh.post(
        "/login/code", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
    )
    assert good.status_code == 303
    assert fresh.get("/admin").status_code == 200


@pytest.fixture
def totp_required(server: LiveServer) -> LiveServer:
    server.runtime.settings = server.settings.replace(require_admin_totp=True)
    return server


def test_administrators_must_enrol_when_the_setting_requires_totp(
    totp_required: LiveServer,
) -> None:
    admin = webclient.admin(totp_required)
    answer = admin.get("/admin/users")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/totp"
    assert "Administrators must turn on" in admin.get("/account/totp").text
    rep = webclient.rep(totp_required)
    assert rep.get("/console").status_code == 200


def test_the_api_account_secret_is_shown_once_and_never_stored_in_clear(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    token = webclient.csrf_of(client.get("/admin/api-accounts").text)
    answer = client.post(
        "/admin/api-accounts",
        data={
            "csrf_token": token,
            "do": "create",
            "name": "helpdesk-sync",
            "command": "full_access",
            "perm_backup": "1",
        },
    )
    secret = answer.text.split('data-testid="client-secret">')[1].split("<")[0]
    assert len(secret) > 30
    assert secret not in client.get("/admin/api-accounts").text
    with server.runtime.db() as db:
        audit = " ".join(str(e.detail) for e in db.query(AuditEvent))
    assert secret not in audit


def test_a_non_ascii_csrf_token_is_refused_with_a_403_not_a_crash(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    in_form = client.post("/admin/teams", data={"name": "X", "csrf_token": "é"})
    in_header = client.post(
        "/console/api/sessions/x/custom",
        json={"values": {}},
        headers={"X-CSRF-Token": "é".encode()},
    )
    logout = client.post("/logout", data={"csrf_token": "ключ"})
    stranger = server.http()
    stranger.get("/login")
    login = stranger.post(
        "/login", data={"username": "admin", "password": "x", "csrf_token": "é"}
    )
    for answer in (in_form, in_header, logout, login):
        assert answer.status_code == 403, answer.text
        assert "security token" in answer.text
