"""An administrator works through the admin interface in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from browserkit import browser, log_in, new_page, screenshot
from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.directory import users

pytestmark = pytest.mark.browser
__all__ = ["browser"]


def finished_session(server: LiveServer, external_key: str) -> str:
    """A session a customer opened, Alice served and ended; returns its lsid."""
    hub: Hub = server.runtime.services["hub"]
    with server.runtime.db() as db:
        alice = users.get(db, "alice").id
    request = SessionRequest(
        QueueRef("general"),
        CustomerInfo(name="Dana Customer", company="Initech", issue="Printer"),
        external_key=external_key,
    )
    opened = server.run(hub.open_session(request))
    rep_gs = server.run(hub.accept(opened.lsid, alice))
    server.run(hub.chat(opened.lsid, opened.customer_gs, "My printer is on fire"))
    server.run(hub.chat(opened.lsid, rep_gs, "Please unplug it first"))
    server.run(hub.add_note(opened.lsid, rep_gs, "customer printer jam"))
    server.run(hub.end(opened.lsid, rep_gs))
    return opened.lsid


def test_an_administrator_sets_up_a_team_an_issue_and_an_api_account(
    server: LiveServer, browser: Browser
) -> None:
    page = new_page(browser)
    creds = server.credentials["admin"]
    page.goto(f"{server.url}/login")
    screenshot(page, "01-login")
    log_in(page, server, creds["username"], creds["password"])
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.locator("h1")).to_have_text("Dashboard")
    screenshot(page, "02-admin-dashboard")

    page.click("text=Users")
    expect(page.locator("h1")).to_have_text("Users")
    screenshot(page, "03-users")

    page.click("nav.sidebar >> text=Support teams")
    page.fill("input[name=name]", "Network Support")
    page.click("text=Create team")
    expect(page.locator(".alert.ok")).to_contain_text("Network Support was created")
    page.select_option("select[name=username]", "bob")
    page.click("text=Add member")
    expect(page.locator("table")).to_contain_text("Bob")
    page.click("nav.sidebar >> text=Support teams")
    expect(page.locator("table")).to_contain_text("network_support")
    screenshot(page, "04-teams")

    page.click("nav.sidebar >> text=Issues")
    page.fill("input[name=display_name] >> nth=-1", "VPN does not connect")
    page.fill("input[name=code_name] >> nth=-1", "vpn")
    page.select_option("select[name=team] >> nth=-1", label="Network Support")
    page.click("text=Create issue")
    row = page.locator("tr", has_text="VPN does not connect")
    expect(row).to_contain_text("Network Support")

    page.click("nav.sidebar >> text=API accounts")
    page.fill("input[name=name] >> nth=-1", "crm-link")
    page.select_option("select[name=command] >> nth=-1", "read_only")
    page.check("input[name=perm_reporting_support] >> nth=-1")
    page.click("text=Create API account")
    secret = page.get_by_test_id("client-secret").inner_text().strip()
    client_id = page.get_by_test_id("client-id").inner_text().strip()
    assert len(secret) >= 32 and len(client_id) == 40
    page.click("text=Done")
    expect(page.locator("body")).not_to_contain_text(secret)
    expect(page.locator("tr", has_text="crm-link")).to_contain_text("Read only")

    # The audit log names every change, and no secret.
    page.click("nav.sidebar >> text=Audit log")
    log = page.locator("table")
    for action in ("team.create", "issue.create", "api_account.create"):
        expect(log).to_contain_text(action)
    expect(page.locator("body")).not_to_contain_text(secret)


def test_an_administrator_finds_a_finished_session_by_its_external_key(
    server: LiveServer, browser: Browser
) -> None:
    lsid = finished_session(server, "CASE-4711")
    finished_session(server, "CASE-0001")
    page = new_page(browser)
    creds = server.credentials["admin"]
    log_in(page, server, creds["username"], creds["password"])

    page.click("nav.sidebar >> text=Sessions")
    page.fill("input[name=external_key]", "4711")
    page.click("button:has-text('Search')")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Dana Customer")
    screenshot(page, "05-session-search")

    rows.locator("a").click()
    expect(page).to_have_url(re.compile(lsid))
    expect(page.get_by_test_id("external-key")).to_have_text("CASE-4711")
    timeline = page.get_by_test_id("timeline")
    for event in ("Session Start", "Conference Owner Changed", "Chat Message"):
        expect(timeline).to_contain_text(event)
    expect(timeline).to_contain_text("Session End")
    expect(page.locator(".transcript").first).to_contain_text("My printer is on fire")
    expect(page.locator(".transcript").first).to_contain_text("Please unplug it first")
    expect(page.locator("[data-testid=notes]")).to_have_text(
        re.compile(r"Note by Alice: customer printer jam")
    )
    screenshot(page, "06-session-page")
    # The pages name an empty icon, so browsers do not ask for /favicon.ico
    # (headless chromium never asks; the link is what can be checked).
    for path in (f"/admin/sessions/{lsid}", "/console", "/login"):
        page.goto(f"{server.url}{path}")
        expect(page.locator("link[rel=icon]")).to_have_attribute("href", "data:,")
