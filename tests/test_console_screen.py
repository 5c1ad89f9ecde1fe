"""The console shows the customer's live screen and drives it, in a real browser.

The customer is the real ``supportbox customer`` on a real X server (Xvfb).
"""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from browserkit import browser, log_in, new_page, screenshot
from livekit import open_session
from screenkit import HEIGHT, WIDTH, XWindow, expected_picture, x_window, xvfb
from serverkit import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]
__all__ = ["browser", "x_window", "xvfb"]


@pytest.fixture
def shared(server: LiveServer, x_window: XWindow) -> Iterator[str]:
    """A session whose customer (the CLI) allows its screen and control."""
    opened = open_session(server)
    env = dict(os.environ, DISPLAY=x_window.display.get_display_name())
    customer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supportbox",
            "customer",
            *("--server", server.url, "--lsid", opened.lsid),
            *(
                "--token",
                opened.join_token,
                "--allow",
                "shell,screen,control",
                "--json",
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert customer.stdout is not None
    lines = iter(customer.stdout.readline, b"")
    # Connected once it prints its welcome; the rest is read and dropped.
    assert any(json.loads(line)["type"] == "welcome" for line in lines)
    threading.Thread(target=collections.deque, args=(lines, 0), daemon=True).start()
    try:
        yield opened.lsid
    finally:
        customer.kill()
        customer.wait()


def canvas_picture(page: Page) -> Image.Image:
    url = page.eval_on_selector("#screen-canvas", "c => c.toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_the_console_shows_the_screen_and_sends_clicks_and_keys(
    server: LiveServer, browser: Browser, x_window: XWindow, shared: str
) -> None:
    page = new_page(browser)
    rep = server.credentials["reps"][0]
    log_in(page, server, rep["username"], rep["password"])
    expect(page).to_have_url(re.compile(r"/console$"))
    waiting = page.locator(".queue-item", has_text="Jane")
    waiting.get_by_role("button", name="Accept").click()
    expect(page.locator("#session-title")).to_have_text("Jane")

    # Nothing of a screen shows before one is shared.
    expect(page.locator("#screen-panel")).to_be_hidden()
    expect(page.locator("#screen-canvas")).to_be_hidden()
    expect(page.locator("#screen-control")).to_be_hidden()

    # The live screen is drawn on the canvas, pixel for pixel.
    page.click("#screen-open")
    expect(page.locator("#screen-status")).to_contain_text(f"{WIDTH}×{HEIGHT}")
    page.wait_for_function("window.screenViewer.updates >= 1")
    assert canvas_picture(page).tobytes() == expected_picture().tobytes()

    # A change on the customer's screen reaches the canvas.
    x_window.repaint([((64, 64, 128, 128), (255, 255, 255))])
    page.wait_for_function(
        "() => { const d = document.getElementById('screen-canvas')"
        ".getContext('2d').getImageData(100, 100, 1, 1).data;"
        " return d[0] === 255 && d[1] === 255 && d[2] === 255; }"
    )
    screenshot(page, "11-console-screen")

    # A shell beside the screen: both stack, and the chat keeps some room.
    page.click("#open-shell")
    expect(page.locator("#shell-state")).to_have_text("Running")
    chat = page.locator("#chat").bounding_box()
    assert chat is not None and chat["height"] >= 90
    expect(page.locator("#screen-canvas")).to_be_visible()
    screenshot(page, "13-console-shell-and-screen")
    page.click("#close-shell")

    # With control granted, a click and typed keys land on the X display.
    page.click("#screen-control")
    expect(page.locator("#screen-status")).to_have_text(
        "You control the customer's screen"
    )
    canvas = page.locator("#screen-canvas")
    box = canvas.bounding_box()
    assert box is not None
    scale = box["width"] / WIDTH
    page.mouse.click(box["x"] + 150 * scale, box["y"] + 90 * scale)
    x_window.wait(lambda: bool(x_window.clicks))
    click = x_window.clicks[0]
    assert click[0] == 1 and abs(click[1] - 150) <= 1 and abs(click[2] - 90) <= 1
    page.keyboard.type("ok")
    x_window.wait(lambda: x_window.typed == "ok")

    # Released: the console sends nothing more, and the server would refuse it.
    page.click("#screen-control")
    expect(page.locator("#screen-status")).to_contain_text("No control")
    page.keyboard.type("x")
    page.click("#screen-stop")
    expect(page.locator("#screen-status")).to_contain_text("Screen sharing ended")
    # Stopped: the panel hides and the last picture is gone.
    expect(page.locator("#screen-panel")).to_be_hidden()
    assert page.eval_on_selector("#screen-canvas", "c => c.width * c.height") == 0
    expect(page.locator("#chat")).to_be_visible()
    screenshot(page, "12-console-screen-stopped")
    assert x_window.typed == "ok"
