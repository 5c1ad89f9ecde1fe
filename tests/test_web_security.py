"""Web logins: cookies, CSRF, logout, TOTP, rate limits and who may open what."""

from __future__ import annotations

import asyncio
import json
import logging

import pyotp
import pytest
from websockets.asyncio.client import connect

import webclient
from serverkit import LiveServer
from supportbox.cli.main import main
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


def pending_of(page: str) -> str:
    return page.split('name="pending" value="')[1].split('"')[0]


def test_a_user_with_totp_needs_the_current_code_after_the_password(
    server: LiveServer,
) -> None:
    creds = server.credentials["admin"]
    client = webclient.admin(server)
    page = client.get("/account/totp").text
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0].strip()
    assert "otpauth://totp/" in page
    token = webclient.csrf_of(page)
    pending = pending_of(page)
    form = {"csrf_token": token, "do": "enable", "pending": pending}
    wrong = client.post("/account/totp", data={**form, "code": "000000"})
    assert "does not match" in wrong.text
    assert pending_of(wrong.text) and secret in wrong.text
    code = pyotp.TOTP(secret).now()
    enabled = client.post("/account/totp", data={**form, "code": code})
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


def test_admin_pages_ignore_a_number_written_in_unicode_digits(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    for path in ("/admin/sessions?rep=²&team=١", "/admin/audit?before=²"):
        answer = client.get(path)
        assert answer.status_code == 200, path


def test_totp_enrolment_only_takes_the_secret_the_server_made(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    page = client.get("/account/totp").text
    token = webclient.csrf_of(page)
    chosen = pyotp.random_base32()
    for pending in ("", "!!!!", "garbage.mac", pending_of(page) + "x"):
        answer = client.post(
            "/account/totp",
            data={
                "csrf_token": token,
                "do": "enable",
                "secret": "!!!!",
                "pending": pending,
                "code": pyotp.TOTP(chosen).now(),
            },
        )
        assert answer.status_code == 200
        assert "This form has expired" in answer.text
    with server.runtime.db() as db:
        user = users.get(db, "admin")
        assert user.totp_secret is None


def test_a_stored_secret_that_is_not_base32_refuses_the_code_without_a_crash(
    server: LiveServer,
) -> None:
    creds = server.credentials["admin"]
    with server.runtime.write_db() as db, db.begin():
        users.get(db, "admin").totp_secret = "!!!!"
    client, answer = webclient.log_in(server, creds["username"], creds["password"])
    assert answer.headers["location"] == "/login/code"
    token = webclient.csrf_of(client.get("/login/code").text)
    bad = client.post("/login/code", data={"csrf_token": token, "code": "123456"})
    assert bad.status_code == 401


def test_admin_pages_answer_404_for_an_id_too_large_for_the_database(
    server: LiveServer,
) -> None:
    client = webclient.admin(server)
    for path in ("/admin/teams/99999999999999999999999", "/admin/users/2147483648"):
        assert client.get(path).status_code == 404, path


def test_a_password_changed_or_a_user_disabled_on_the_command_line_ends_web_logins(
    server: LiveServer,
) -> None:
    store = ["--data-dir", str(server.data_dir)]
    store += ["--database-url", server.settings.database_url]
    bob, carol = webclient.rep(server, 1), webclient.rep(server, 2)
    admin = webclient.admin(server)
    assert bob.get("/console").status_code == 200
    assert carol.get("/console").status_code == 200

    new_password = ["--password", "a brand new passphrase"]
    bob_flags = ["--username", "bob", *new_password]
    assert main(["user", "update", *store, *bob_flags]) == 0
    assert main(["user", "disable", *store, "--username", "carol"]) == 0

    for client in (bob, carol):
        answer = client.get("/console")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")
    assert admin.get("/admin").status_code == 200  # other users stay logged in


def test_a_password_typed_as_the_username_is_never_logged_or_stored(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supportbox")
    typed = "Tr0ub4dor&3-my-password"
    _web, answer = webclient.log_in(server, typed, "anything at all")
    assert answer.status_code == 401
    _web, known = webclient.log_in(server, "carol", "a wrong password")
    assert known.status_code == 401
    with server.http() as http:
        form = {"grant_type": "client_credentials"}
        token = http.post("/oauth2/token", auth=(typed, "secret"), data=form)
    assert token.status_code == 401

    async def live_login() -> str:
        async with connect(server.ws_url + "/live") as ws:
            hello = {"type": "hello", "v": 1, "role": "representative"}
            await ws.send(json.dumps({**hello, "username": typed, "password": "x"}))
            return str(json.loads(await ws.recv())["code"])

    assert asyncio.run(live_login()) == "auth_failed"

    assert "login failed" in caplog.text and "api.token failed" in caplog.text
    assert typed not in caplog.text
    assert "an unknown name of 23 characters" in caplog.text
    with server.runtime.db() as db:
        failed = db.query(AuditEvent).filter_by(outcome="failed").all()
    actors = sorted(e.actor for e in failed)
    assert actors == ["carol", *["unknown name (23 characters)"] * 2]
