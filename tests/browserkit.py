"""Debian's chromium driven by Playwright, for the browser tests.

``tools/install-browser.sh`` installs chromium; Playwright never
downloads a browser of its own here.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from serverkit import LiveServer

CHROMIUM = Path(os.environ.get("SUPPORTBOX_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A common laptop screen; every page must be usable at this size.
VIEWPORT = {"width": 1366, "height": 768}


_running: list[tuple[Playwright, Browser]] = []


def _stop() -> None:
    for playwright, launched in _running:
        launched.close()
        playwright.stop()


@pytest.fixture(scope="session")
def browser() -> Browser:
    """One chromium per test process, shared by every module that imports this.

    Each importing module gets its own fixture instance, and Playwright's
    sync API cannot nest, so the browser is started once and stopped at exit.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing; run tools/install-browser.sh")
    if not _running:
        playwright = sync_playwright().start()
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        _running.append((playwright, launched))
        atexit.register(_stop)
    return _running[0][1]


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def log_in(page: Page, server: LiveServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
