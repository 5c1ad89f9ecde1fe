"""Who may run which Command API action (spec 2.1, 2.3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from commandkit import Api, token_for
from serverkit import LiveServer, demo_server
from supportbox.directory import api_accounts, users

READ_ONLY = {
    "get_logged_in_reps",
    "get_support_teams",
    "get_session_attributes",
    "get_appliances",
    "get_connected_client_list",
    "get_connected_clients",
    "check_health",
    "get_api_info",
    "send_chat_message",
    "create_virtual_customer",
}
FULL_ONLY = {
    "generate_session_key",
    "join_session",
    "transfer_session",
    "set_session_attributes",
    "terminate_session",
    "set_failover_role",
    "import_jump_shortcut",
    "leave_session",
    "set_rep_status",
    "logout_rep",
}
ALL = sorted(READ_ONLY | FULL_ONLY)
ADMIN_ONLY = {
    "join_session",
    "leave_session",
    "transfer_session",
    "set_session_attributes",
    "get_session_attributes",
    "terminate_session",
    "check_health",
    "set_failover_role",
    "import_jump_shortcut",
    "set_rep_status",
    "logout_rep",
}
SUPPORT = {"generate_session_key", "create_virtual_customer"}


@pytest.fixture(scope="module", params=["bomgar", "beyondtrust"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp(f"perm-{request.param}")
    with demo_server(base, xml_namespace=request.param, legacy_api_auth=True) as server:
        with server.runtime.db() as db, db.begin():
            for level in ("read_only", "deny"):
                account, secret = api_accounts.create(db, level, command=level)
                server.credentials[level] = (account.client_id, secret)
            users.create(db, "apionly", "api-only-pass", support=False, api=True)
            users.create(db, "helper", "helper-pass", api=True)
        yield server


def account_api(live: LiveServer, level: str) -> Api:
    if level == "full_access":
        return Api.demo(live)
    return Api(live, token_for(live, *live.credentials[level]))


def refused(api: Api, action: str) -> bool:
    reply = api.call(action)
    return reply.tag == "error" and "needs" in reply.text


@pytest.mark.parametrize("level", ["full_access", "read_only", "deny"])
def test_api_account_levels_allow_exactly_their_actions(
    live: LiveServer, level: str
) -> None:
    api = account_api(live, level)
    allowed = {
        "full_access": set(ALL),
        "read_only": READ_ONLY,
        "deny": {"get_api_info"},
    }[level]
    for action in ALL:
        assert refused(api, action) == (action not in allowed), action


def test_a_refusal_names_the_level_and_what_is_needed(live: LiveServer) -> None:
    api = account_api(live, "read_only")
    message = api.error("terminate_session", lsid="0" * 32)
    assert message == (
        "API account 'read_only' has command access read_only; "
        "terminate_session needs full_access"
    )


def test_get_api_info_shows_the_level_of_each_account(live: LiveServer) -> None:
    for level in ("read_only", "deny"):
        reply = account_api(live, level).ok("get_api_info")
        perms = {p.get("name"): p.text for p in reply.findall("permissions/permission")}
        assert perms["perm_command"] == level
        assert perms["perm_reporting_support"] == "0"


@pytest.mark.parametrize(
    ("username", "password", "allowed"),
    [
        ("admin", "demo-admin-pass", set(ALL)),
        ("helper", "helper-pass", set(ALL) - ADMIN_ONLY),
        ("apionly", "api-only-pass", set(ALL) - ADMIN_ONLY - SUPPORT),
    ],
)
def test_legacy_users_are_mapped_onto_their_rights(
    live: LiveServer, username: str, password: str, allowed: set[str]
) -> None:
    if live.settings.xml_namespace != "bomgar":
        # Each legacy call verifies an argon2 hash; once is enough.
        pytest.skip("the legacy mapping does not depend on the namespace")
    api = Api(live, auth={"username": username, "password": password})
    for action in ALL:
        assert refused(api, action) == (action not in allowed), action


def test_a_legacy_user_sees_its_mapped_permissions(live: LiveServer) -> None:
    api = Api(live, auth={"username": "apionly", "password": "api-only-pass"})
    reply = api.ok("get_api_info")
    perms = {p.get("name"): p.text for p in reply.findall("permissions/permission")}
    assert perms["perm_command"] == "read_only"


def test_a_bad_legacy_login_on_the_command_api_is_login_failed(
    live: LiveServer,
) -> None:
    api = Api(live)
    for path in ("/api/command", "/api/command.ns"):
        response = api.send(
            "POST",
            path=path,
            data={"action": "get_api_info", "username": "admin", "password": "no"},
        )
        assert response.status_code == 200
        assert response.text == (
            '<?xml version="1.0" encoding="UTF-8"?>\n\n<error>Login failed</error>\n'
        )


def test_a_missing_or_bad_token_is_401_on_the_command_api(live: LiveServer) -> None:
    for token in ("", "x" * 40):
        api = Api(live, token)
        response = api.send("GET", params={"action": "get_api_info"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        reply_root = response.text
        assert "<error" in reply_root
