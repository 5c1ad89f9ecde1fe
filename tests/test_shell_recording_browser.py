"""The admin session page plays a shell recording in its own frame."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from browserkit import browser, log_in, new_page, screenshot
from livekit import on_server, open_session
from serverkit import LiveServer
from supportbox.recording.shell import ShellRecorder

pytestmark = pytest.mark.browser
__all__ = ["browser"]


def test_the_session_page_plays_the_shell_recording_in_place(
    server: LiveServer, browser: Browser
) -> None:
    lsid = open_session(server).lsid

    async def record() -> None:
        recorder = await ShellRecorder.start(server.runtime, lsid, 80, 24)
        recorder.output(b"$ uptime\r\n up 3 days, load 0.42\r\n")
        await recorder.close()

    on_server(server, record())
    admin = server.credentials["admin"]
    page = new_page(browser)
    log_in(page, server, admin["username"], admin["password"])
    page.goto(f"{server.url}/admin/sessions/{lsid}")

    # Only the player is framed: no heading, no second download link.
    frame = page.frame_locator("iframe.recording")
    expect(frame.locator(".ap-player")).to_be_visible()
    expect(frame.locator("h1")).to_have_count(0)
    expect(frame.locator("a", has_text="Download")).to_have_count(0)
    expect(page.locator("[data-testid=recording-download]")).to_have_count(1)

    # The whole player fits the frame, and it plays.
    player = frame.locator(".ap-player").bounding_box()
    framed = page.locator("iframe.recording").bounding_box()
    assert player is not None and framed is not None
    assert player["y"] + player["height"] <= framed["y"] + framed["height"] + 1
    frame.locator(".ap-player").click()
    expect(frame.locator(".ap-term")).to_contain_text("load 0.42")
    page.locator("iframe.recording").scroll_into_view_if_needed()
    screenshot(page, "admin-shell-recording")
    page.close()
