"""An administrator sets up a webhook and handles its dead letters in chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from browserkit import browser, log_in, new_page, screenshot
from receiverkit import Post, Receiver, receiver
from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.storage.models import WebhookDelivery
from supportbox.webhooks import payload, queue

pytestmark = pytest.mark.browser
__all__ = ["browser"]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def refuse(post: Post) -> int:
    return 503


def admin_page(server: LiveServer, browser: Browser) -> Page:
    page = new_page(browser)
    creds = server.credentials["admin"]
    log_in(page, server, creds["username"], creds["password"])
    page.click("nav.sidebar >> text=Outbound events")
    expect(page.locator("h1")).to_have_text("Outbound events")
    return page


def session_begins(server: LiveServer, name: str) -> str:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name=name))
    return str(server.run(hub.open_session(request)).lsid)


def dead_lsids(server: LiveServer, count: int, timeout: float = 20) -> list[str]:
    """The sessions of the dead letters, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        with server.runtime.db() as db:
            rows = [row.lsid for row, _name in queue.dead_letters(db)]
        if len(rows) >= count:
            return rows
        assert time.monotonic() < deadline, f"{len(rows)} dead letters, not {count}"
        time.sleep(0.05)


def test_bad_webhook_settings_are_refused_with_a_readable_reason(
    server: LiveServer, browser: Browser
) -> None:
    page = admin_page(server, browser)
    form = page.locator("form", has=page.locator("text=Create webhook"))

    form.locator("input[name=name]").fill("ticketing")
    form.locator("input[name=url]").fill("ftp://tickets.example.com/hook")
    form.locator("text=Create webhook").click()
    expect(page.locator(".alert.error")).to_contain_text(
        "must be an http:// or https:// URL"
    )
    expect(form.locator("input[name=name]")).to_have_value("ticketing")

    form.locator("input[name=url]").fill("https://tickets.example.com/hook")
    form.locator("input[name=retry_interval]").fill("soon")
    form.locator("text=Create webhook").click()
    expect(page.locator(".alert.error")).to_contain_text(
        "retry interval must be a number of seconds"
    )

    form.locator("input[name=retry_interval]").fill("60")
    form.locator("input[name=secret]").fill("too short")
    form.locator("text=Create webhook").click()
    expect(page.locator(".alert.error")).to_contain_text("secret is shorter than 16")
    expect(page.locator("tbody")).to_contain_text("No webhooks yet")


def test_an_administrator_replays_and_discards_dead_letters(
    server: LiveServer, browser: Browser, hook: Receiver
) -> None:
    hook.answer = refuse
    page = admin_page(server, browser)
    form = page.locator("form", has=page.locator("text=Create webhook"))
    form.locator("input[name=name]").fill("ticketing")
    form.locator("input[name=url]").fill(hook.url)
    form.locator(f"input[name=events][value={payload.BEGIN}]").check()
    form.locator("input[name=retry_interval]").fill("0.2")
    form.locator("input[name=retry_duration]").fill("1")
    form.locator("text=Create webhook").click()
    secret = page.get_by_test_id("webhook-secret").inner_text().strip()
    assert len(secret) >= 32
    page.click("text=Done")
    expect(page.locator("body")).not_to_contain_text(secret)
    row = page.locator("tr", has_text="ticketing")
    expect(row).to_contain_text(payload.BEGIN)
    expect(row).to_contain_text("active")

    # The receiver refuses both sessions' events until they are given up on.
    first = session_begins(server, "Ivan")
    second = session_begins(server, "Judy")
    assert dead_lsids(server, 2) == [first, second]
    page.reload()
    expect(row.locator(".badge.amber")).to_have_text("2")
    screenshot(page, "10-webhooks")
    row.locator("text=Manage").click()
    letters = page.get_by_test_id("dead-letters")
    expect(letters.locator("tbody tr")).to_have_count(2)
    expect(letters).to_contain_text("HTTP 503")
    screenshot(page, "11-webhook-dead-letters")

    # Replay one now that the receiver works; discard the rest.
    hook.answer = lambda post: 200
    letters.locator("tr", has_text=first[:12]).get_by_role(
        "button", name="Replay"
    ).click()
    expect(page.locator(".alert.ok")).to_contain_text(
        "Dead letters queued for delivery again: 1."
    )
    accepted = hook.wait_for(lambda posts: len(posts) == 1)
    assert accepted[0].form["event"] == payload.BEGIN
    expect(letters.locator("tbody tr")).to_have_count(1)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("text=Discard all")
    expect(page.locator(".alert.ok")).to_contain_text("Dead letters discarded: 1.")
    expect(page.locator("#dead-letters")).to_contain_text("None")
    with server.runtime.db() as db:
        statuses = list(db.scalars(select(WebhookDelivery.status)))
    assert statuses == [queue.DELIVERED]

    # Edit, disable, and every change is in the audit log.
    settings = page.locator("form", has=page.locator("text=Save webhook"))
    settings.locator("input[name=url]").fill("not a url")
    settings.locator("text=Save webhook").click()
    expect(page.locator(".alert.error")).to_contain_text("must be an http://")
    settings.locator("input[name=url]").fill(hook.url + "/v2")
    settings.locator("text=Save webhook").click()
    expect(page.locator(".alert.ok")).to_contain_text("Webhook ticketing saved")
    page.click("text=Disable")
    expect(page.locator("h1 .badge")).to_have_text("disabled")
    page.click("nav.sidebar >> text=Audit log")
    log = page.locator("table")
    for action in (
        "webhook.create",
        "webhook.replay_one",
        "webhook.discard_all",
        "webhook.update",
        "webhook.disable",
    ):
        expect(log).to_contain_text(action)
    expect(page.locator("body")).not_to_contain_text(secret)
