"""A representative opens a shell and moves files in the console's page.

The customer is ``supportbox customer --allow ... --files-dir ...`` when
the command-line client takes ``--allow``; until then it is the same agent
(``supportbox.remote.agent``) on a real WebSocket, as ``streamkit`` runs it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browserkit import browser, log_in, new_page, screenshot
from clientkit import Client, of_type
from serverkit import LiveServer
from streamkit import customer
from supportbox.core.hub import CustomerInfo, Hub, OpenedSession, SessionRequest
from supportbox.core.queues import QueueRef

pytestmark = pytest.mark.browser
__all__ = ["browser"]


@functools.cache
def cli_allows() -> bool:
    """True when ``supportbox customer`` can allow shells and files in advance."""
    helped = subprocess.run(
        [sys.executable, "-m", "supportbox", "customer", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--allow" in helped.stdout


@contextmanager
def cli_customer(
    server: LiveServer, opened: OpenedSession, folder: Path, allow: tuple[str, ...]
) -> Iterator[None]:
    args = ["--server", server.url, "--lsid", opened.lsid, "--token"]
    args += [opened.join_token, "--allow", ",".join(allow), "--files-dir", str(folder)]
    client: Client = server.run(Client.start("customer", "customer", *args))
    try:
        server.run(client.expect(of_type("welcome")), timeout=60)
        yield
    finally:
        server.run(client.stop())


@contextmanager
def agent_customer(
    server: LiveServer, opened: OpenedSession, folder: Path, allow: tuple[str, ...]
) -> Iterator[None]:
    joining = customer(server, opened, files_dir=folder, allow=allow)
    side = server.run(joining, timeout=30)
    try:
        yield
    finally:
        server.run(side.close())


def arriving_customer(
    server: LiveServer,
    folder: Path,
    name: str,
    allow: tuple[str, ...] = ("shell", "files"),
) -> contextlib.AbstractContextManager[None]:
    """A customer in the general queue, sharing ``folder``, while in the block."""
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(
        QueueRef("general"), CustomerInfo(name=name, hostname="GRACE-PC")
    )
    opened = server.run(hub.open_session(request))
    start = cli_customer if cli_allows() else agent_customer
    return start(server, opened, folder, allow)


def accepted(page: Page, server: LiveServer, name: str) -> None:
    rep = server.credentials["reps"][0]  # alice
    log_in(page, server, rep["username"], rep["password"])
    expect(page.locator("#live-text")).to_have_text("Online")
    page.locator("#general .queue-item", has_text=name).get_by_role(
        "button", name="Accept"
    ).click()
    expect(page.locator("#session-title")).to_have_text(name)


def run(page: Page, command: str) -> None:
    page.locator("#terminal").click()
    page.keyboard.type(command)
    page.keyboard.press("Enter")


def test_a_representative_runs_a_command_in_a_shell_and_resizes_it(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    with arriving_customer(server, tmp_path, "Grace Shell"):
        page = new_page(browser)
        accepted(page, server, "Grace Shell")

        page.click("#open-shell")
        expect(page.locator("#shell-state")).to_have_text("Running")
        run(page, "echo answer-$((6 * 7))")
        expect(page.locator("#terminal")).to_contain_text("answer-42")
        expect(page.locator("#chat")).to_contain_text("opened a command shell")
        screenshot(page, "08-console-shell")

        # A smaller panel is a smaller terminal on the customer's side too.
        page.evaluate("document.getElementById('shell').style.height = '220px'")
        page.wait_for_function("shell.term.rows < 14")
        rows, cols = page.evaluate("[shell.term.rows, shell.term.cols]")
        run(page, "clear; stty size")
        expect(page.locator("#terminal")).to_contain_text(f"{rows} {cols}")

        page.click("#close-shell")
        expect(page.locator("#shell")).to_be_hidden()
        expect(page.locator("#open-shell")).to_be_enabled()

        # A shell that exits on the customer's side says so and keeps its output.
        page.click("#open-shell")
        expect(page.locator("#shell-state")).to_have_text("Running")
        run(page, "echo bye-now; exit")
        expect(page.locator("#shell-state")).to_contain_text("Closed:")
        expect(page.locator("#terminal")).to_contain_text("bye-now")
        page.click("#close-shell")
        expect(page.locator("#shell")).to_be_hidden()


def test_a_shell_the_customer_refuses_shows_the_reason(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    with arriving_customer(server, tmp_path, "Kim Careful", allow=("files",)):
        page = new_page(browser)
        accepted(page, server, "Kim Careful")
        page.click("#open-shell")
        # The agent says "refused by the customer"; the command-line client
        # says the customer does not allow command shells.
        expect(page.locator("#shell-state")).to_have_text(
            re.compile(r"^Closed: (refused by the customer|.*does not allow)")
        )
        expect(page.locator("#shell")).to_be_visible()
        expect(page.locator("#open-shell")).to_be_enabled()


def test_a_representative_sends_and_fetches_files_and_sees_refusals(
    server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    (tmp_path / "logs").mkdir()
    theirs = os.urandom(200_000)
    (tmp_path / "logs" / "app.log").write_bytes(theirs)
    ours = os.urandom(150_000)
    with arriving_customer(server, tmp_path, "Hank Files"):
        page = new_page(browser)
        accepted(page, server, "Hank Files")

        def send(path: str, shot: str = "") -> None:
            page.click("#send-file")
            expect(page.locator("#send-dialog")).to_be_visible()
            page.set_input_files(
                "#send-form input[name=file]",
                {
                    "name": "fix.bin",
                    "mimeType": "application/octet-stream",
                    "buffer": ours,
                },
            )
            expect(page.locator("#send-form input[name=path]")).to_have_value("fix.bin")
            page.fill("#send-form input[name=path]", path)
            if shot:
                screenshot(page, shot)
            page.click("#send-confirm")

        send("logs/fix.bin", shot="09-console-send-file")
        expect(page.locator("#transfer-state")).to_contain_text(
            "Sent logs/fix.bin (146 KB)"
        )
        assert (tmp_path / "logs" / "fix.bin").read_bytes() == ours
        expect(page.locator("#chat")).to_contain_text("sent logs/fix.bin")

        # The customer's reasons reach the page as they were given.
        send("logs/fix.bin")
        refusal = "the file exists and overwriting was not requested"
        expect(page.locator("#transfer-state")).to_contain_text(refusal)
        expect(page.locator("#chat .bubble.bad")).to_contain_text(refusal)
        send("../outside.bin")
        expect(page.locator("#transfer-state")).to_contain_text(
            "the path leaves the allowed folder (..)"
        )
        assert not (tmp_path.parent / "outside.bin").exists()

        page.click("#fetch-file")
        page.fill("#fetch-form input[name=path]", "logs/app.log")
        with page.expect_download() as download:
            page.click("#fetch-confirm")
        fetched = Path(download.value.path()).read_bytes()
        assert hashlib.sha256(fetched).digest() == hashlib.sha256(theirs).digest()
        assert download.value.suggested_filename == "app.log"
        expect(page.locator("#transfer-state")).to_contain_text(
            re.compile(r"Fetched logs/app.log \(195 KB\), SHA-256 checked")
        )

        page.click("#fetch-file")
        page.fill("#fetch-form input[name=path]", "missing.txt")
        page.click("#fetch-confirm")
        expect(page.locator("#transfer-state")).to_contain_text(
            "the file does not exist"
        )
        screenshot(page, "09-console-files")
