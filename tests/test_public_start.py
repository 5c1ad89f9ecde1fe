"""Session generation (spec 3.2): every mode, parameter family and limit."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest

from publickit import (
    authenticate,
    default_site_id,
    issue,
    log_in,
    session_count,
    site_server,
    stored,
    user_id,
)
from serverkit import LiveServer
from supportbox.directory import sites
from supportbox.errors import PermissionDenied

__all__ = ["site_server"]


@pytest.fixture
def server(site_server: LiveServer) -> LiveServer:
    """The module's shared server: tests here count sessions relatively."""
    return site_server


START_PATHS = [
    "/api/start_session",
    "/api/start_session.ns",
    "/download_customer_connector.ns",
]


def start_cli(http: httpx.Client, query: str, path: str = "/api/start_session") -> str:
    """Start a session asking for the CLI answer; returns its lsid."""
    response = http.get(f"{path}?{query}&client=cli")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"server", "lsid", "token"}
    return str(body["lsid"])


@pytest.mark.parametrize("path", START_PATHS)
def test_a_rep_link_opens_a_session_in_that_reps_queue_on_every_path(
    server: LiveServer, path: str
) -> None:
    alice = log_in(server, "alice")
    with server.http() as http:
        lsid = start_cli(http, f"id={alice}&customer.name=Jane", path)
    session = stored(server, lsid)
    assert session.queue == f"rep:{alice}"
    assert session.status == "waiting"
    assert session.start_method == "rep_list"
    assert session.site_id == default_site_id(server)
    assert session.customer_name == "Jane"
    # The address the customer's browser came from, with its port.
    assert re.fullmatch(r"127\.0\.0\.1:\d+", session.public_ip), session.public_ip


def test_a_rep_may_be_named_by_public_display_name(server: LiveServer) -> None:
    bob = log_in(server, "bob")
    with server.http() as http:
        lsid = start_cli(http, "name=Bob")
    assert stored(server, lsid).queue == f"rep:{bob}"


def test_a_rep_who_is_not_logged_in_gets_a_friendly_page_and_no_session(
    server: LiveServer,
) -> None:
    carol = user_id(server, "carol")
    before = session_count(server)
    with server.http() as http:
        response = http.get(f"/api/start_session?id={carol}")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("text/html")
    assert "Carol is not available right now" in response.text
    assert '<link rel="stylesheet" href="/site/public.css">' in response.text
    assert session_count(server) == before


@pytest.mark.parametrize(
    "query", ["id=999", "name=Nobody", "issue_menu=1&id=999", "issue_menu=1&codeName=x"]
)
def test_an_unknown_rep_or_issue_gets_a_404_page_and_no_session(
    server: LiveServer, query: str
) -> None:
    before = session_count(server)
    with server.http() as http:
        response = http.get(f"/api/start_session?{query}")
    assert response.status_code == 404
    assert "We could not find that" in response.text
    assert "Back to the support page" in response.text
    assert session_count(server) == before


def test_a_request_naming_no_queue_is_refused_with_a_400_page(
    server: LiveServer,
) -> None:
    before = session_count(server)
    with server.http() as http:
        response = http.get("/api/start_session?customer.name=Jane")
    assert response.status_code == 400
    assert "names no representative, session key or issue" in response.text
    assert session_count(server) == before


def test_the_issue_menu_by_id_queues_for_the_issues_team_with_all_customer_fields(
    server: LiveServer,
) -> None:
    issue_id, team_id, display = issue(server, "printer")
    query = (
        f"issue_menu=1&id={issue_id}&customer.name=John%20Doe"
        "&customer.company=Company+Name&customer.company_code=1234"
        "&customer.details=I%20need%20support&session.custom.external_key=T-1234"
        "&session.custom.priority=high&session.custom.not_configured=dropped"
        "&locale=de&popup=1"
    )
    with server.http() as http:
        lsid = start_cli(http, query)
    session = stored(server, lsid)
    assert session.queue == f"team:{team_id}"
    assert session.issue_id == issue_id
    assert session.start_method == "issue"
    assert session.external_key == "T-1234"
    assert session.custom == {"priority": "high"}
    assert session.customer_name == "John Doe"
    assert session.customer == {
        "name": "John Doe",
        "company": "Company Name",
        "company_code": "1234",
        "issue": display,
        "details": "I need support",
    }


def test_the_issue_menu_by_code_name_reaches_the_same_issue(
    server: LiveServer,
) -> None:
    issue_id, team_id, _ = issue(server, "billing")
    with server.http() as http:
        lsid = start_cli(http, "issue_menu=1&codeName=billing")
    session = stored(server, lsid)
    assert (session.queue, session.issue_id) == (f"team:{team_id}", issue_id)


def test_id_and_code_name_that_disagree_are_refused(server: LiveServer) -> None:
    before = session_count(server)
    issue_id, _, _ = issue(server, "printer")
    with server.http() as http:
        response = http.get(
            f"/api/start_session?issue_menu=1&id={issue_id}&codeName=billing"
        )
    assert response.status_code == 400
    assert "two different issues" in response.text
    assert session_count(server) == before


def test_with_reps_in_the_issue_menu_the_id_names_a_representative(
    server: LiveServer,
) -> None:
    with server.runtime.write_db() as db, db.begin():
        site = sites.create_site(db, "Reps menu", ["reps.example.test"])
        site.show_reps_in_issue_menu = True
    alice = log_in(server, "alice")
    issue_id, _, display = issue(server, "email")
    with server.http(headers={"Host": "reps.example.test"}) as http:
        lsid = start_cli(http, f"issue_menu=1&id={alice}&codeName=email")
    session = stored(server, lsid)
    assert session.queue == f"rep:{alice}"
    assert session.issue_id == issue_id
    assert session.customer["issue"] == display


def test_legacy_parameter_names_fill_the_same_fields(server: LiveServer) -> None:
    issue_id, _, _ = issue(server, "printer")
    query = (
        f"issue_menu=1&customer_name=John%20Doe&customer_company=Company%20Name"
        f"&customer_company_code=1234&customer_desc=I%20need%20support"
        f"&external_key=1234&id={issue_id}"
    )
    with server.http() as http:
        lsid = start_cli(http, query, "/download_customer_connector.ns")
    session = stored(server, lsid)
    assert session.external_key == "1234"
    assert session.customer["name"] == "John Doe"
    assert session.customer["company"] == "Company Name"
    assert session.customer["company_code"] == "1234"
    assert session.customer["details"] == "I need support"


def test_a_modern_name_wins_over_its_legacy_twin(server: LiveServer) -> None:
    issue_id, _, _ = issue(server, "printer")
    with server.http() as http:
        lsid = start_cli(
            http, f"issue_menu=1&id={issue_id}&customer_name=Old&customer.name=New"
        )
    assert stored(server, lsid).customer_name == "New"


def test_a_urlencoded_post_works_like_a_get(server: LiveServer) -> None:
    issue_id, team_id, _ = issue(server, "printer")
    form = {
        "issue_menu": "1",
        "id": str(issue_id),
        "customer.name": "Ann Smith",
        "customer.details": "screen is black & blank",
        "session.custom.external_key": "INC-77",
        "client": "cli",
    }
    with server.http() as http:
        response = http.post("/api/start_session.ns", data=form)
    assert response.status_code == 200
    session = stored(server, response.json()["lsid"])
    assert session.queue == f"team:{team_id}"
    assert session.customer["details"] == "screen is black & blank"
    assert session.external_key == "INC-77"


def test_plus_and_percent_20_both_decode_to_a_space_and_nothing_is_decoded_twice(
    server: LiveServer,
) -> None:
    issue_id, _, _ = issue(server, "printer")
    query = (
        f"issue_menu=1&id={issue_id}&customer.name=Jane+Q%20Public"
        "&customer.details=100%2520sure&session.custom.external_key=a%2Bb"
    )
    with server.http() as http:
        lsid = start_cli(http, query)
    session = stored(server, lsid)
    assert session.customer_name == "Jane Q Public"
    assert session.customer["details"] == "100%20sure"
    assert session.external_key == "a+b"


def test_a_urlencoded_post_body_is_decoded_once_too(server: LiveServer) -> None:
    issue_id, _, _ = issue(server, "printer")
    body = f"issue_menu=1&id={issue_id}&customer.name=A+B%20C&customer.details=x%2520y"
    with server.http() as http:
        response = http.post(
            "/api/start_session?client=cli",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    session = stored(server, response.json()["lsid"])
    assert session.customer_name == "A B C"
    assert session.customer["details"] == "x%20y"


def test_values_at_their_limits_are_accepted(server: LiveServer) -> None:
    issue_id, _, _ = issue(server, "printer")
    name = "n" * 100
    details = "é" * 512  # 1024 bytes of UTF-8
    query = (
        f"issue_menu=1&id={issue_id}&customer.name={name}"
        f"&customer.details={quote(details)}"
        f"&session.custom.external_key={'k' * 1024}"
    )
    with server.http() as http:
        lsid = start_cli(http, query)
    session = stored(server, lsid)
    assert session.customer_name == name
    assert session.customer["details"] == details
    assert len(session.external_key) == 1024


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("customer.name=" + "n" * 101, "customer.name is longer than 100 characters"),
        ("customer_company=" + "c" * 101, "customer.company is longer than 100"),
        ("customer.company_code=" + "c" * 101, "company_code is longer than 100"),
        ("customer.details=" + quote("é" * 513), "longer than 1024 bytes"),
        ("session.custom.external_key=" + "k" * 1025, "longer than 1024 characters"),
        ("session.custom.priority=" + "p" * 1025, "longer than 1024 characters"),
        (
            "&".join(f"session.custom.f{i}={'v' * 1000}" for i in range(11)),
            "together are longer than 10240 bytes",
        ),
    ],
)
def test_values_over_their_limits_get_a_400_page_and_no_session(
    server: LiveServer, extra: str, message: str
) -> None:
    before = session_count(server)
    issue_id, _, _ = issue(server, "printer")
    with server.http() as http:
        response = http.get(f"/api/start_session?issue_menu=1&id={issue_id}&{extra}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert message.lower() in response.text.lower()
    assert session_count(server) == before


def test_the_cli_answer_reports_errors_as_json(server: LiveServer) -> None:
    before = session_count(server)
    with server.http() as http:
        response = http.get("/api/start_session?id=999&client=cli")
    assert response.status_code == 404
    assert response.json() == {"error": "there is no such representative"}
    assert session_count(server) == before


def test_the_site_is_chosen_by_the_host_header(server: LiveServer) -> None:
    with server.runtime.write_db() as db, db.begin():
        other = sites.create_site(db, "Partners", ["help.example.test"])
        other_id = other.id
    alice = log_in(server, "alice")
    with server.http() as http:
        response = http.get(
            f"/api/start_session?id={alice}&client=cli",
            headers={"Host": "help.example.test"},
        )
        lsid = response.json()["lsid"]
    assert stored(server, lsid).site_id == other_id


def test_the_cli_token_is_accepted_by_the_hub_once(server: LiveServer) -> None:
    alice = log_in(server, "alice")
    with server.http() as http:
        body = http.get(f"/api/start_session?id={alice}&client=cli").json()
    assert body["server"] == server.url
    gs = authenticate(server, body["lsid"], body["token"])
    assert gs == 1  # the customer is the session's first participant
    with pytest.raises(PermissionDenied, match="not valid"):
        authenticate(server, body["lsid"], body["token"])


@pytest.mark.parametrize("value", ["²", "١٢", "1" * 13])
def test_an_id_that_is_not_plain_ascii_digits_gets_a_400_page(
    server: LiveServer, value: str
) -> None:
    before = session_count(server)
    with server.http() as http:
        response = http.get("/api/start_session", params={"id": value})
    assert response.status_code == 400
    assert "is not a whole number" in response.text
    assert session_count(server) == before


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"--x\r\nbroken", "multipart/form-data", "multipart"),
        (b"customer.name=%FF%FE", "application/x-www-form-urlencoded", ""),
        (b"{broken", "application/json", ""),
        (b"a=" + b"x" * 1_100_000, "application/x-www-form-urlencoded", "larger"),
    ],
    ids=["broken multipart", "bad utf8", "broken json", "too large"],
)
def test_an_unreadable_post_body_gets_a_400_page_and_no_session(
    server: LiveServer, content: bytes, content_type: str, message: str
) -> None:
    alice = log_in(server, "alice")
    before = session_count(server)
    with server.http() as http:
        response = http.post(
            f"/api/start_session?id={alice}",
            content=content,
            headers={"content-type": content_type},
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert session_count(server) == before
