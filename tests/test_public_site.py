"""The public site's front page, its files and the start_session.js starter."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from publickit import issue, log_in, site_server, user_id
from serverkit import LiveServer
from supportbox.directory import sites
from supportbox.storage.models import SupportSession, User

__all__ = ["site_server"]

STARTER = (
    Path(__file__).resolve().parent.parent
    / "src/supportbox/web/static/start_session.js"
)


@pytest.fixture
def server(site_server: LiveServer) -> LiveServer:
    return site_server


def test_the_front_page_offers_the_issue_form_the_key_box_and_online_reps(
    server: LiveServer,
) -> None:
    alice = log_in(server, "alice")
    bob = log_in(server, "bob")
    with server.runtime.write_db() as db, db.begin():
        hidden = db.get(User, bob)
        assert hidden is not None
        hidden.show_on_rep_list = False
    printer, _, _ = issue(server, "printer")
    with server.http() as http:
        response = http.get("/")
    page = response.text
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<form method="post" action="/api/start_session"' in page
    assert '<input type="hidden" name="issue_menu" value="1">' in page
    assert f'<option value="{printer}">Printer problem</option>' in page
    for name in (
        "customer.name",
        "customer.company",
        "customer.company_code",
        "customer.details",
        "session.custom.priority",
        "short_key",
    ):
        assert f'name="{name}"' in page, name
    assert f'href="/api/start_session?id={alice}&amp;c2cjs=1"' in page
    assert ">Bob<" not in page  # logged in, but hidden from the list
    assert ">Carol<" not in page  # not logged in
    carol = user_id(server, "carol")
    assert f"id={carol}" not in page


def test_the_front_page_follows_the_host_header(server: LiveServer) -> None:
    with server.runtime.write_db() as db, db.begin():
        site = sites.create_site(db, "Acme Helpdesk", ["help.acme.test"])
        site.show_reps_in_issue_menu = True
    alice = log_in(server, "alice")
    with server.http(headers={"Host": "help.acme.test:8443"}) as http:
        page = http.get("/").text
    assert '<a class="brand" href="/">Acme Helpdesk</a>' in page
    assert f'<option value="{alice}">Alice</option>' in page
    assert "Printer problem" not in page


def test_a_rep_link_from_the_front_page_starts_a_session(server: LiveServer) -> None:
    alice = log_in(server, "alice")
    with server.http() as http:
        response = http.get(f"/api/start_session?id={alice}&c2cjs=1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/chat/")


def test_the_stylesheet_and_chat_script_are_served_with_their_types(
    server: LiveServer,
) -> None:
    with server.http() as http:
        css = http.get("/site/public.css")
        script = http.get("/site/chat.js")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ".masthead" in css.text
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert '"/live"' in script.text


def test_start_session_js_is_served_as_javascript_with_bg_set_site_and_start(
    server: LiveServer,
) -> None:
    with server.http() as http:
        response = http.get("/api/start_session.js")
        head = http.head("/api/start_session.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    for name in ("BG.setSite", "BG.start", "START_TYPE", "CHAT", "FULL", "BROWSER"):
        assert name in response.text
    assert head.status_code == 200
    assert head.headers["content-type"] == response.headers["content-type"]


NODE_HARNESS = """
const fs = require("fs");
const opened = [];
const window = {
  location: {protocol: "https:", host: "page.example.test",
             set href(url) { opened.push(url); }},
  document: {currentScript: {src: process.argv[3]}},
};
new Function("window", fs.readFileSync(process.argv[2], "utf8"))(window);
const BG = window.BG;
const calls = JSON.parse(process.argv[4]);
for (const [site, type, options] of calls) {
  if (site) BG.setSite(site);
  BG.start(BG.START_TYPE[type], options);
}
console.log(JSON.stringify(opened));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_bg_start_navigates_to_start_session_with_the_equivalent_parameters(
    tmp_path: Path,
) -> None:
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    calls = [
        ["support.example.com", "CHAT", {"sessionKey": "1728331"}],
        [None, "FULL", {"rep": {"id": 30, "name": "Admin"}}],
        [
            "https://help.example.com:8443/ignored",
            "BROWSER",
            {
                "issue": {"codeName": "printer"},
                "customer": {
                    "name": "Jane Doe",
                    "company": "A&B",
                    "company_code": "7",
                    "details": "100% broken",
                },
                "session.custom": {"external_key": "T-1"},
                "sessionCustom": {"priority": "x"},
            },
        ],
        [None, "FULL", {"issue": {"id": 3}, "sessionCustom": {"priority": "high"}}],
    ]
    done = subprocess.run(
        [
            "node",
            str(harness),
            str(STARTER),
            "http://script.example.test/api/start_session.js",
            json.dumps(calls),
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert json.loads(done.stdout) == [
        "http://support.example.com/api/start_session?short_key=1728331&c2cjs=1",
        "http://support.example.com/api/start_session?id=30&name=Admin",
        "http://help.example.com:8443/api/start_session?issue_menu=1"
        "&codeName=printer&c2cjs=1&customer.name=Jane%20Doe&customer.company=A%26B"
        "&customer.company_code=7&customer.details=100%25%20broken"
        "&session.custom.external_key=T-1",
        "http://help.example.com:8443/api/start_session?issue_menu=1&id=3"
        "&session.custom.priority=high",
    ]


def test_the_urls_bg_start_builds_are_accepted_by_the_server(
    server: LiveServer,
) -> None:
    _, team_id, _ = issue(server, "printer")
    url = (
        "/api/start_session?issue_menu=1&codeName=printer&c2cjs=1"
        "&customer.name=Jane%20Doe&customer.details=100%25%20broken"
        "&session.custom.external_key=T-1"
    )
    with server.http() as http:
        response = http.get(url)
    assert response.status_code == 303
    lsid = response.headers["location"].split("/")[2].split("#")[0]
    with server.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None
        assert (row.queue_kind, row.queue_ref) == ("team", team_id)
        assert row.external_key == "T-1"
