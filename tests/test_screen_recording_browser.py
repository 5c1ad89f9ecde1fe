"""The admin session page plays a screen recording in chromium's <video>."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from browserkit import browser, log_in, new_page, screenshot
from livekit import hub, on_server, open_session
from serverkit import LiveServer
from supportbox.recording.sharing import start_screen_feed
from videokit import COLOURS, close_to, key_parts, probes, quarters

pytestmark = pytest.mark.browser
__all__ = ["browser"]

FIRST_FRAME = """async ([points]) => {
  const video = document.querySelector("[data-testid=screen-recording]");
  video.muted = true;
  const shown = new Promise((done) => video.requestVideoFrameCallback(done));
  await video.play();
  await shown;
  video.pause();
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d");
  context.drawImage(video, 0, 0);
  return {
    size: [video.videoWidth, video.videoHeight],
    pixels: points.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data)),
  };
}"""


def test_the_session_page_plays_the_screen_recording(
    server: LiveServer, browser: Browser
) -> None:
    lsid = open_session(server).lsid

    async def share() -> None:
        feed = await start_screen_feed(server.runtime, lsid)
        assert feed is not None
        for part in key_parts(quarters(320, 240)):
            feed.part(part)
        await feed.aclose()

    on_server(server, share())
    on_server(server, hub(server).end(lsid))
    admin = server.credentials["admin"]
    page = new_page(browser)
    log_in(page, server, admin["username"], admin["password"])
    page.goto(f"{server.url}/admin/sessions/{lsid}")

    seen: dict[str, Any] = page.evaluate(FIRST_FRAME, [probes(320, 240)])
    screenshot(page, "admin-screen-recording")
    page.close()

    assert seen["size"] == [320, 240]
    for pixel, colour in zip(seen["pixels"], COLOURS, strict=True):
        assert close_to(tuple(pixel[:3]), colour), (pixel, colour)
