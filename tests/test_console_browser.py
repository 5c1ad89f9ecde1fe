"""A representative works a session in the console, in a real browser.

The customer is driven through the hub on the server's own event loop.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Dialog, expect

from browserkit import browser, log_in, new_page, screenshot
from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.directory import teams

pytestmark = pytest.mark.browser
__all__ = ["browser"]


def test_a_representative_accepts_chats_and_transfers_a_live_session(
    server: LiveServer, browser: Browser
) -> None:
    hub: Hub = server.runtime.services["hub"]
    with server.runtime.db() as db:
        tech = teams.get(db, "tech_support").id
        accounts = teams.get(db, "accounts").id
    page = new_page(browser)
    rep = server.credentials["reps"][1]  # bob, in Tech Support
    log_in(page, server, rep["username"], rep["password"])
    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.locator("#live-text")).to_have_text("Online")
    expect(page.locator("#team")).to_contain_text("Nobody waiting")

    # A customer arrives while the console is open: it appears live.
    request = SessionRequest(
        QueueRef("team", tech),
        CustomerInfo(
            name="Erin Example",
            company="Globex",
            issue="E-mail problem",
            details="Outlook asks for my password again and again",
            hostname="ERIN-LAPTOP",
            os="Windows 11",
        ),
        external_key="TICKET-42",
    )
    opened = server.run(hub.open_session(request))
    waiting = page.locator("#team .queue-item", has_text="Erin Example")
    expect(waiting).to_be_visible()
    expect(waiting).to_contain_text("Globex")

    waiting.get_by_role("button", name="Accept").click()
    expect(page.locator("#session-title")).to_have_text("Erin Example")
    expect(page.locator("#mine")).to_contain_text("Erin Example")
    expect(page.locator("#details")).to_contain_text("ERIN-LAPTOP")
    expect(page.locator("#details input[name=external_key]")).to_have_value("TICKET-42")

    # Chat both ways.
    server.run(hub.chat(opened.lsid, opened.customer_gs, "Hello, anyone there?"))
    expect(page.locator("#chat")).to_contain_text("Hello, anyone there?")
    page.fill("#chat-input", "Hi Erin, I am looking at it now")
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat .bubble.me")).to_contain_text("looking at it now")
    events = server.run(hub.events_since(opened.lsid, 0))
    said = [e.body for e in events if e.event_type == "Chat Message"]
    assert said == ["Hello, anyone there?", "Hi Erin, I am looking at it now"]

    # A note and a new external key are stored as events.
    page.fill("#note-form textarea", "Customer uses Outlook 2021")
    page.click("#note-form button")
    page.fill("#details input[name=external_key]", "TICKET-43")
    page.click("#custom-form button")
    expect(page.locator("#chat")).to_contain_text("External key set to TICKET-43")
    screenshot(page, "07-console-with-session")

    # Transfer to the Accounts team: the session leaves this console.
    page.select_option("#transfer-to", f"team:{accounts}")
    page.click("#transfer")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#mine")).to_contain_text("None")
    state = server.run(hub.state(opened.lsid))
    assert state.status == "waiting"
    assert str(state.queue) == f"team:{accounts}"
    assert state.external_key == "TICKET-43"
    kinds = [e.event_type for e in server.run(hub.events_since(opened.lsid, 0))]
    assert "Session Note Added" in kinds


def test_a_representative_ends_a_session_with_the_exit_survey(
    server: LiveServer, browser: Browser
) -> None:
    hub: Hub = server.runtime.services["hub"]
    page = new_page(browser)
    rep = server.credentials["reps"][0]  # alice
    log_in(page, server, rep["username"], rep["password"])
    expect(page.locator("#live-text")).to_have_text("Online")
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Frank"))
    opened = server.run(hub.open_session(request))

    page.locator("#general .queue-item", has_text="Frank").get_by_role(
        "button", name="Accept"
    ).click()
    expect(page.locator("#session-title")).to_have_text("Frank")
    page.fill("#chat-input", "Let me restart it")
    page.press("#chat-input", "Enter")
    expect(page.locator("#chat .bubble.me")).to_contain_text("restart it")
    # Only the confirmation: no alert about a session that has just ended.
    dialogs: list[str] = []

    def answer(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    page.on("dialog", answer)
    page.click("#end")
    page.select_option("#survey select[name=resolved]", "yes")
    page.fill("#survey textarea[name=comments]", "Fixed by a restart")
    page.click("#end-confirm")
    expect(page.locator("#empty")).to_be_visible()
    # The ended session's header, buttons and chat are gone.
    expect(page.locator("#session")).to_be_hidden()
    expect(page.locator("#end")).to_be_hidden()
    expect(page.locator("#chat .bubble")).to_have_count(0)
    expect(page.locator("#screen-panel")).to_be_hidden()
    expect(page.locator("#details")).to_have_text("Customer details appear here.")
    expect(page.locator("#mine")).to_contain_text("None")

    # The page moves on as soon as it has sent the survey; storing it may
    # take a moment longer (PostgreSQL on a busy machine).
    deadline = time.monotonic() + 10
    while True:
        events = server.run(hub.events_since(opened.lsid, 0))
        found = [e for e in events if e.event_type == "Representative Exit Survey"]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    state = server.run(hub.state(opened.lsid))
    assert state.status == "ended"
    assert found, "the representative exit survey was not stored"
    survey = found[0]
    assert dict(survey.data) == {"resolved": "yes", "comments": "Fixed by a restart"}
    # Late answers (the detail re-fetch gets 403) would alert after the pane
    # closed: give them the time to arrive, then check nothing was shown.
    page.evaluate("() => fetch('/console').then(() => null)")
    screenshot(page, "75-console-after-end")
    assert dialogs == ["confirm: End this session for everyone?"]
