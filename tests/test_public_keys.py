"""Session keys on the public site: short keys, key URLs, single use."""

from __future__ import annotations

import asyncio

import pytest

from publickit import (
    authenticate,
    issue,
    key_used_by,
    make_key,
    session_count,
    site_server,
    stored,
    user_id,
)
from serverkit import LiveServer
from supportbox.clients.customer import redeem, ticket_from_url

__all__ = ["site_server"]


@pytest.fixture
def server(site_server: LiveServer) -> LiveServer:
    # Every test here shares one server, and wrong keys count against
    # 127.0.0.1: each test starts with none counted.
    site_server.runtime.services["key_guesses"].clear()
    return site_server


def test_a_short_key_opens_a_session_in_the_keys_queue_and_is_used_up(
    server: LiveServer,
) -> None:
    bob = user_id(server, "bob")  # not logged in: a key may wait for a rep
    key = make_key(
        server, "rep", bob, external_key="TICKET-9", custom={"priority": "high"}
    )
    with server.http() as http:
        response = http.post(
            "/api/start_session",
            data={"short_key": key.short_key, "client": "cli"},
        )
    assert response.status_code == 200, response.text
    lsid = response.json()["lsid"]
    session = stored(server, lsid)
    assert session.queue == f"rep:{bob}"
    assert session.start_method == "session_key"
    assert session.external_key == "TICKET-9"
    assert session.custom == {"priority": "high"}
    assert key_used_by(server, key.id) == lsid


def test_a_used_key_does_not_work_twice(server: LiveServer) -> None:
    key = make_key(server)
    with server.http() as http:
        first = http.get(f"/api/start_session?short_key={key.short_key}")
        before = session_count(server)
        second = http.get(f"/api/start_session?short_key={key.short_key}")
    assert first.status_code == 200
    assert second.status_code == 404
    assert "That session key is not valid" in second.text
    assert session_count(server) == before


def test_an_expired_key_gets_a_friendly_page_and_no_session(
    server: LiveServer,
) -> None:
    key = make_key(server, expired=True)
    before = session_count(server)
    with server.http() as http:
        response = http.get(f"/api/start_session?short_key={key.short_key}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "That session key is not valid" in response.text
    assert key_used_by(server, key.id) is None
    assert session_count(server) == before


def test_the_request_may_add_an_external_key_and_fields_to_the_keys_own(
    server: LiveServer,
) -> None:
    key = make_key(server, external_key="FROM-KEY", custom={"priority": "low"})
    query = (
        f"short_key={key.short_key[:3]}%20{key.short_key[3:]}"
        "&session.custom.external_key=FROM-FORM&customer.name=Kim&client=cli"
    )
    with server.http() as http:
        lsid = http.get(f"/api/start_session?{query}").json()["lsid"]
    session = stored(server, lsid)
    assert session.queue == "general"
    assert session.external_key == "FROM-FORM"
    assert session.custom == {"priority": "low"}
    assert session.customer_name == "Kim"


def test_a_key_for_an_issue_queues_for_the_issues_team(server: LiveServer) -> None:
    issue_id, team_id, display = issue(server, "billing")
    key = make_key(server, "issue", issue_id)
    with server.http() as http:
        response = http.get(f"/api/start_session?short_key={key.short_key}&client=cli")
    session = stored(server, response.json()["lsid"])
    assert (session.queue, session.issue_id) == (f"team:{team_id}", issue_id)
    assert session.customer["issue"] == display


def test_a_key_url_works_like_typing_the_short_key(server: LiveServer) -> None:
    key = make_key(server, "team", 1, external_key="URL-1")
    with server.http() as http:
        response = http.get(f"/?ak={key.url_token}")
        again = http.get(f"/?ak={key.url_token}")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    lsid = key_used_by(server, key.id)
    assert lsid is not None
    assert lsid in response.text
    session = stored(server, lsid)
    assert (session.queue, session.external_key) == ("team:1", "URL-1")
    assert session.start_method == "session_key"
    assert again.status_code == 404
    assert "Back to the support page" in again.text


def test_a_key_url_can_start_the_browser_chat(server: LiveServer) -> None:
    key = make_key(server)
    with server.http() as http:
        response = http.get(f"/?ak={key.url_token}&c2cjs=1")
    lsid = key_used_by(server, key.id)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/chat/{lsid}#token=")


def test_head_on_a_key_checks_it_without_using_it(server: LiveServer) -> None:
    key = make_key(server)
    before = session_count(server)
    with server.http() as http:
        good = http.head(f"/api/start_session?short_key={key.short_key}")
        bad = http.head("/api/start_session?short_key=0000000")
    assert good.status_code == 200
    assert good.headers["content-disposition"].startswith("attachment;")
    assert bad.status_code in (404, 429)
    assert key_used_by(server, key.id) is None
    assert session_count(server) == before


def test_the_cli_customer_client_redeems_a_key_and_a_key_url(
    server: LiveServer,
) -> None:
    by_key, by_url = make_key(server), make_key(server)
    ticket = asyncio.run(redeem(server.url, {"short_key": by_key.short_key}))
    from_url = asyncio.run(ticket_from_url(f"{server.url}/?ak={by_url.url_token}"))
    assert ticket.server == server.url
    assert key_used_by(server, by_key.id) == ticket.lsid
    assert key_used_by(server, by_url.id) == from_url.lsid
    assert authenticate(server, ticket.lsid, ticket.token) == 1
