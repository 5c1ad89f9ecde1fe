"""An attendee watches a presentation in a real browser (Debian's chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from browserkit import browser, new_page, screenshot
from presentkit import presenting
from serverkit import LiveServer, demo_server
from videokit import COLOURS, probes, quarters

pytestmark = pytest.mark.browser
__all__ = ["browser"]

READ_PIXELS = """([points]) => {
  const canvas = document.getElementById("screen");
  const context = canvas.getContext("2d");
  return {
    size: [canvas.width, canvas.height],
    pixels: points.map(([x, y]) => Array.from(context.getImageData(x, y, 1, 1).data)),
  };
}"""


def test_an_attendee_enters_the_key_on_the_public_site_and_sees_the_screen(
    server: LiveServer, browser: Browser
) -> None:
    width, height = 480, 300
    with presenting(server, quarters(width, height)) as running:
        assert running.info is not None
        page = new_page(browser)
        page.goto(server.url + "/")
        form = page.get_by_test_id("presentation-form")
        form.get_by_label("Presentation key").fill(running.info.key)
        form.get_by_label("Your name").fill("Dora")
        form.get_by_role("button", name="Watch").click()

        page.wait_for_selector("#presentation:not([data-updates='0'])")
        seen: dict[str, Any] = page.evaluate(READ_PIXELS, [probes(width, height)])
        screenshot(page, "presentation-attendee")
        page.close()

    assert seen["size"] == [width, height]
    for pixel, colour in zip(seen["pixels"], COLOURS, strict=True):
        assert pixel[:3] == list(colour), (pixel, colour)


def test_a_refused_attendee_reads_why_on_the_page(
    tmp_path: Path, browser: Browser
) -> None:
    with (
        demo_server(tmp_path, max_attendees_per_address=1) as server,
        presenting(server, quarters(64, 64)) as running,
    ):
        assert running.info is not None
        watch = f"{server.url}/presentation?key={running.info.key}&name=Ed"
        first = new_page(browser)
        first.goto(watch)
        first.wait_for_selector("#presentation:not([data-updates='0'])")
        second = new_page(browser)
        second.goto(watch)
        second.wait_for_selector("#presentation[data-refused='1']")
        status = second.locator("#status").inner_text()
        screenshot(second, "presentation-refused")
        first.close()
        second.close()

    assert "too many attendees from your address" in status
