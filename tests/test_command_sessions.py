"""Live actions of the Command API, acting through the session hub."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from commandkit import Api, new_session, rep_offline, rep_online, user_id
from serverkit import LiveServer, demo_server
from supportbox.core.presence import ConnectedClient
from supportbox.storage.models import (
    Participant,
    RepPresence,
    SessionEvent,
    SupportSession,
)


@pytest.fixture(scope="module", params=["bomgar", "beyondtrust"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp(f"sessions-{request.param}")
    with demo_server(base, xml_namespace=request.param) as server:
        yield server


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Api:
    return Api.demo(live)


@pytest.fixture
def alice(live: LiveServer) -> Iterator[int]:
    uid = user_id(live, "alice")
    rep_online(live, uid)
    yield uid
    rep_offline(live, uid)


def session_row(live: LiveServer, lsid: str) -> SupportSession:
    with live.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None
        db.expunge(row)
        return row


def events(live: LiveServer, lsid: str) -> list[SessionEvent]:
    with live.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None
        found = db.scalars(
            select(SessionEvent)
            .where(SessionEvent.session_id == row.id)
            .order_by(SessionEvent.seq)
        ).all()
        for event in found:
            db.expunge(event)
        return list(found)


def reps_in(live: LiveServer, lsid: str) -> set[int]:
    with live.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None
        return {
            p.user_id
            for p in db.scalars(
                select(Participant).where(
                    Participant.session_id == row.id,
                    Participant.kind == "representative",
                    Participant.present.is_(True),
                )
            )
            if p.user_id is not None
        }


def test_join_session_adds_a_logged_in_rep_who_then_owns_it(
    api: Api, live: LiveServer, alice: int
) -> None:
    lsid = new_session(api)
    reply = api.ok("join_session", lsid=lsid, rep_id=str(alice))
    assert reply.tag == "success"
    assert reply.text == "Representative successfully added"
    assert reps_in(live, lsid) == {alice}
    assert session_row(live, lsid).status == "active"


def test_join_session_by_username_and_as_post(
    api: Api, live: LiveServer, alice: int
) -> None:
    lsid = new_session(api)
    reply = api.call("join_session", method="POST", lsid=lsid, rep_username="alice")
    assert reply.text == "Representative successfully added"
    assert "already in session" in api.error("join_session", lsid=lsid, rep_id=alice)


def test_join_session_refuses_a_rep_who_is_not_logged_in(api: Api) -> None:
    lsid = new_session(api)
    assert "not logged in" in api.error("join_session", lsid=lsid, rep_username="carol")


def test_leave_session_removes_the_rep(api: Api, live: LiveServer, alice: int) -> None:
    lsid = new_session(api)
    api.ok("join_session", lsid=lsid, rep_id=alice)
    reply = api.ok("leave_session", lsid=lsid, rep_id=alice)
    assert reply.text == "Representative successfully removed"
    assert reps_in(live, lsid) == set()
    assert session_row(live, lsid).status == "waiting"
    assert "is not in session" in api.error("leave_session", lsid=lsid, rep_id=alice)


def test_transfer_session_moves_it_to_another_queue(
    api: Api, live: LiveServer, alice: int
) -> None:
    lsid = new_session(api)
    api.ok("join_session", lsid=lsid, rep_id=alice)
    reply = api.call("transfer_session", method="POST", lsid=lsid, queue_id="team:2")
    assert reply.text == "Successfully transferred"
    row = session_row(live, lsid)
    assert (row.queue_kind, row.queue_ref, row.status) == ("team", 2, "waiting")
    api.ok("transfer_session", lsid=lsid, queue_id="rep_username:bob")
    row = session_row(live, lsid)
    assert (row.queue_kind, row.queue_ref) == ("rep", user_id(live, "bob"))


def test_send_chat_message_from_system_customer_and_rep(
    api: Api, live: LiveServer, alice: int
) -> None:
    lsid = new_session(api)
    api.ok("join_session", lsid=lsid, rep_id=alice)
    assert api.ok("send_chat_message", lsid=lsid, body="[b]Hi[/b]").text == (
        "Chat message sent"
    )
    api.ok("send_chat_message", lsid=lsid, body="help", impersonate="customer")
    api.ok("send_chat_message", lsid=lsid, body="on it", impersonate=f"rep:{alice}")
    chats = [e for e in events(live, lsid) if e.event_type == "Chat Message"]
    senders = [(e.performed_by or {}).get("type") for e in chats]
    assert senders == ["system", "customer", "representative"]
    assert [e.body for e in chats] == ["[b]Hi[/b]", "help", "on it"]
    assert (chats[0].performed_by or {}).get("name") == "Bomgar"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"team_id": "1", "body": "x"}, "team chat is not supported"),
        ({"body": "x"}, "parameter lsid is required"),
        ({"lsid": "nothex", "body": "x"}, "is not a session id"),
        ({"lsid": "0" * 32, "body": "x"}, "no session"),
        ({"body": "x", "impersonate": "rep:999"}, "is not in session"),
        ({"body": "x", "impersonate": "boss"}, "impersonate"),
        ({}, "parameter body is required"),
    ],
)
def test_bad_chat_messages_answer_a_clear_error(
    api: Api, params: dict[str, str], message: str
) -> None:
    if "lsid" not in params and message != "parameter lsid is required":
        params = {"lsid": new_session(api), **params}
    assert message in api.error("send_chat_message", **params)


def test_session_attributes_are_set_cleared_and_read(
    api: Api, live: LiveServer
) -> None:
    lsid = new_session(api, **{"session.custom.external_key": "OLD"})
    reply = api.ok(
        "set_session_attributes",
        lsid=lsid,
        **{"session.custom.external_key": "INC7", "session.custom.priority": "High"},
    )
    assert reply.text == "Session attributes were set"
    got = api.ok("get_session_attributes", lsid=lsid)
    assert got.tag == "custom_attributes"
    values = {
        a.get("code_name"): (a.get("display_name"), a.text or "")
        for a in got.findall("custom_attribute")
    }
    assert values == {
        "external_key": ("External Key", "INC7"),
        "priority": ("Priority", "High"),
    }
    for attribute in got.findall("custom_attribute"):
        assert list(attribute.attrib) == ["display_name", "code_name"]

    api.ok("set_session_attributes", lsid=lsid, **{"session.custom.priority": ""})
    got = api.ok("get_session_attributes", lsid=lsid)
    texts = {a.get("code_name"): a.text or "" for a in got.findall("custom_attribute")}
    assert texts == {"external_key": "INC7", "priority": ""}
    assert any(e.event_type == "External Key" for e in events(live, lsid))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "no session.custom"),
        ({"session.custom.nope": "1"}, "no custom field"),
        ({"session.custom.priority": "x" * 1025}, "longer than 1024"),
    ],
)
def test_bad_attribute_changes_answer_a_clear_error(
    api: Api, params: dict[str, str], message: str
) -> None:
    lsid = new_session(api)
    assert message in api.error("set_session_attributes", lsid=lsid, **params)


def test_terminate_session_ends_it_and_later_actions_say_so(
    api: Api, live: LiveServer, alice: int
) -> None:
    lsid = new_session(api)
    assert api.ok("terminate_session", lsid=lsid).text == "Successfully terminated"
    assert session_row(live, lsid).status == "ended"
    message = f"session {lsid} has ended"
    assert api.error("terminate_session", lsid=lsid) == message
    assert api.error("get_session_attributes", lsid=lsid) == message
    assert api.error("send_chat_message", lsid=lsid, body="x") == message
    assert api.error("join_session", lsid=lsid, rep_id=alice) == message
    assert api.error("transfer_session", lsid=lsid, queue_id="team:1") == message


@pytest.mark.parametrize(
    "action",
    [
        "join_session",
        "leave_session",
        "transfer_session",
        "terminate_session",
        "set_session_attributes",
        "get_session_attributes",
    ],
)
def test_an_unknown_lsid_answers_an_error(api: Api, action: str) -> None:
    message = api.error(action, lsid="f" * 32, rep_id="1", queue_id="general")
    assert message == f"no session '{'f' * 32}'"


def test_get_logged_in_reps_lists_who_is_online(
    api: Api, live: LiveServer, alice: int
) -> None:
    since = time.time() - 600
    bob = user_id(live, "bob")
    rep_online(live, bob, since=since)
    lsid = new_session(api)
    api.ok("join_session", lsid=lsid, rep_id=bob)
    try:
        reply = api.ok("get_logged_in_reps")
    finally:
        rep_offline(live, bob)
    reps = {int(r.get("id")): r for r in reply.findall("rep")}
    assert set(reps) == {alice, bob}
    rep = reps[bob]
    assert list(rep.attrib) == ["id"]
    assert reply.value("display_name", rep) == "Bob"
    assert reply.value("public_display_name", rep) == "Bob"
    assert reply.value("private_display_name", rep) == "Bob (Tech Support)"
    assert reply.value("type", rep) == "Normal"
    link = reply.value("direct_link", rep)
    assert link == f'<a href="{live.url}/api/start_session?id={bob}&name=Bob">Bob</a>'
    logged = reply.find("logged_in_since", rep)
    assert logged.get("timestamp") == str(int(since))
    assert logged.text.endswith("+00:00")
    assert int(reply.value("support_session_count", rep)) >= 1
    assert reply.value("showing_on_rep_list", rep) == "1"
    lines = reply.response.text.splitlines()
    assert "\t\t<display_name>Bob</display_name>" in lines
    assert f'\t<rep id="{bob}">' in lines


def test_no_rep_online_gives_an_empty_list(api: Api, live: LiveServer) -> None:
    with live.runtime.db() as db, db.begin():
        assert db.scalar(select(RepPresence)) is None
    reply = api.ok("get_logged_in_reps")
    assert reply.findall("rep") == []


def test_set_rep_status_and_logout_rep(api: Api, live: LiveServer, alice: int) -> None:
    reply = api.call("set_rep_status", method="POST", user_id=alice, status="busy")
    assert reply.text == "Representative status was set"
    with live.runtime.db() as db:
        presence = db.get(RepPresence, alice)
        assert presence is not None and presence.status == "busy"
    assert "not one of" in api.error("set_rep_status", user_id=alice, status="asleep")
    assert api.ok("logout_rep", user_id=alice).text == "Representative was logged out"
    assert "is not logged in" in api.error("logout_rep", user_id=alice)


def test_get_support_teams_lists_teams_issues_and_members_on_request(
    api: Api,
) -> None:
    plain = api.ok("get_support_teams")
    teams = plain.findall("support_team")
    assert [plain.value("name", t) for t in teams] == ["Tech Support", "Accounts"]
    issues = [
        plain.value("code_name", i) for i in plain.findall("issues/issue", teams[0])
    ]
    assert issues == ["printer", "email"]
    assert plain.findall("members", teams[0]) == []

    for flag in ({"showmembers": "1"}, {"showmembers": ""}):
        reply = api.ok("get_support_teams", **flag)
        tech = reply.findall("support_team")[0]
        members = reply.findall("members/representative", tech)
        assert [reply.value("username", m) for m in members] == [
            "alice",
            "bob",
            "admin",
        ]
        assert all(list(m.attrib) == ["id"] for m in members)
        assert [reply.value("role", m) for m in members] == [
            "lead",
            "member",
            "manager",
        ]


def test_a_valueless_showmembers_flag_counts(api: Api) -> None:
    response = api.send("GET", path="/api/command?action=get_support_teams&showmembers")
    reply = api.check(response)
    assert reply.findall("support_team/members/representative")


def test_connected_clients_are_listed_and_described(api: Api, live: LiveServer) -> None:
    hub = live.runtime.services["hub"]
    lsid = new_session(api)
    now = time.time()
    rep = ConnectedClient("r:1", "representative", "REP-PC", "Windows 11", now, None, 1)
    customer = ConnectedClient("c:1", "support_customer", "CUST", "macOS", now, lsid)
    hub.register_client(rep)
    hub.register_client(customer)
    try:
        listing = api.ok("get_connected_client_list")
        counts = {
            c.get("type"): c.text
            for c in listing.findall("connected_client_summary/appliance_summary/count")
        }
        assert counts["representative"] == "1"
        assert counts["support_customer"] == "1"
        assert counts["push_agent"] == "0"
        ids = {c.get("id") for c in listing.findall("connected_client")}
        assert ids == {"r:1", "c:1"}

        summary = api.ok(
            "get_connected_client_list", summary_only="1", type="representative"
        )
        assert summary.findall("connected_client") == []

        detail = api.ok(
            "get_connected_clients", id="c:1", type="all", include_connections="1"
        )
        [item] = detail.findall("connected_support_customer")
        assert item.get("id") == "c:1"
        assert detail.value("hostname", item) == "CUST"
        assert detail.value("platform", item) == "macOS"
        sessions = detail.findall("client_connections/support_session", item)
        assert [s.get("lsid") for s in sessions] == [lsid]

        everyone = api.ok("get_connected_clients")
        assert len(everyone.root) == 2
    finally:
        hub.unregister_client("r:1")
        hub.unregister_client("c:1")


@pytest.mark.parametrize(
    ("action", "params", "message"),
    [
        ("get_connected_client_list", {"type": "robot"}, "type 'robot'"),
        ("get_connected_clients", {"id": "nope"}, "no connected client"),
        (
            "get_connected_clients",
            {"id": ",".join(map(str, range(101)))},
            "more than 100",
        ),
    ],
)
def test_bad_client_queries_answer_a_clear_error(
    api: Api, action: str, params: dict[str, str], message: str
) -> None:
    assert message in api.error(action, **params)
