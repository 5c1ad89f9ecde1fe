"""The public site in a real browser: Debian's chromium through Playwright.

Install both with ``tools/install-browser.sh``; without them these tests
are skipped, saying what is missing.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from livekit import PASSWORD, stored_events
from publickit import log_in, site_server, stored
from serverkit import LiveServer
from supportbox.storage.models import SupportSession, SurveyResponse

__all__ = ["site_server"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(
        "chromium is not installed (run tools/install-browser.sh)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is not installed (run tools/install-browser.sh)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(str(exc)))
    opened.on(
        "console",
        lambda msg: problems.append(msg.text) if msg.type == "error" else None,
    )
    yield opened
    context.close()
    assert problems == [], "the page logged errors"


class Rep:
    """A representative on the live protocol, with a blocking client."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.count = 0

    def send(self, kind: str, **fields: Any) -> str:
        self.count += 1
        ident = f"r{self.count}"
        self.ws.send(json.dumps({"type": kind, "id": ident, **fields}))
        return ident

    def until(self, kind: str, **match: Any) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(self.ws.recv(timeout=10))
            if frame["type"] == kind and all(
                frame.get(k) == v for k, v in match.items()
            ):
                return frame


@contextmanager
def rep_login(server: LiveServer, username: str) -> Iterator[Rep]:
    with connect(server.ws_url + "/live") as ws:
        rep = Rep(ws)
        rep.ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "v": 1,
                    "role": "representative",
                    "username": username,
                    "password": PASSWORD,
                    "queue_updates": False,
                }
            )
        )
        rep.until("welcome")
        yield rep


def test_the_front_page_shows_issues_key_box_and_reps_and_looks_finished(
    server_for_browser: LiveServer, page: Any
) -> None:
    server = server_for_browser
    log_in(server, "alice")
    page.goto(server.url + "/")
    assert page.title() == "Support · Remote support"
    assert page.locator("#issue option").all_inner_texts() == [
        "Printer problem",
        "E-mail problem",
        "Billing question",
    ]
    assert page.locator("#custom-priority").count() == 1
    assert page.locator("#short-key").is_visible()
    assert "Alice" in page.locator(".reps").inner_text()
    background = page.eval_on_selector(
        ".masthead", "el => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(29, 39, 51)"  # the stylesheet is applied
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "public-site.png"), full_page=True)


def test_issue_form_to_browser_chat_to_exit_survey(
    server_for_browser: LiveServer, page: Any
) -> None:
    server = server_for_browser

    # The customer fills in the issue form and chooses the browser chat.
    page.goto(server.url + "/")
    page.select_option("#issue", label="Printer problem")
    page.fill("#customer-name", "Jane Browser")
    page.fill("#customer-company", "Acme")
    page.fill("#customer-details", "The printer says PC LOAD LETTER")
    page.fill("#custom-priority", "high")
    page.click("button[name=c2cjs]")
    page.wait_for_url("**/chat/*")
    assert "#token=" not in page.url  # the script took the token out
    lsid = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("text=Waiting for a representative")
    session = stored(server, lsid)
    assert session.customer_name == "Jane Browser"
    assert session.customer["details"] == "The printer says PC LOAD LETTER"
    assert session.custom == {"priority": "high"}

    # A chat line typed in the page is stored as a session event.
    page.fill("#message", "Hello, is anyone there?")
    page.click("#send")
    page.wait_for_selector(".log li.mine >> text=Hello, is anyone there?")
    chats = [e for e in stored_events(server, lsid) if e.event_type == "Chat Message"]
    assert [(c.body, c.performed_by["type"]) for c in chats] == [
        ("Hello, is anyone there?", "customer")
    ]

    # A representative takes the session and answers; the page shows it.
    with rep_login(server, "alice") as rep:
        rep.send("accept", lsid=lsid)
        rep.until("ok")
        page.wait_for_selector("text=You are chatting with Alice")
        rep.send("chat", lsid=lsid, body="Hi Jane, Alice here.")
        page.wait_for_selector(".log li.theirs >> text=Hi Jane, Alice here.")
        page.screenshot(path=str(ARTIFACTS / "public-chat.png"))

        # The customer ends the chat and answers the exit survey.
        page.click("#end")
        page.wait_for_selector("#survey:not([hidden])")
        page.check("input[name=rating][value='5']")
        page.fill("#q-comments", "quick and friendly")
        page.click("#survey button[type=submit]")
        page.wait_for_selector("#thanks:not([hidden])")

    # The page thanks the customer once the survey is sent; storing it may
    # take a moment longer (PostgreSQL on a busy machine).
    deadline = time.monotonic() + 10
    while True:
        with server.runtime.db() as db:
            row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
            assert row is not None and row.status == "ended"
            survey = db.scalar(
                select(SurveyResponse).where(SurveyResponse.session_id == row.id)
            )
        if survey is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert survey is not None
    assert survey.answers == {"rating": "5", "comments": "quick and friendly"}


@pytest.fixture
def server_for_browser(site_server: LiveServer) -> LiveServer:
    return site_server
