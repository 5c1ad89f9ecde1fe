"""Shells and files through the real ``supportbox customer`` and ``rep`` (--json)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from clientkit import Client, of_type
from livekit import open_session
from serverkit import LiveServer
from supportbox.recording import asciicast
from supportbox.storage.models import Recording

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(autouse=True)
def plain_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The customer's shell is /bin/sh, whatever the test runner uses."""
    monkeypatch.setenv("SHELL", "/bin/sh")


async def start_pair(
    server: LiveServer, *customer_args: str
) -> tuple[str, Client, Client]:
    opened = open_session(server)
    customer = await Client.start(
        "customer",
        "customer",
        "--server",
        server.url,
        "--lsid",
        opened.lsid,
        "--token",
        opened.join_token,
        *customer_args,
    )
    rep = await Client.start(
        "alice", "rep", "--server", server.url, "--username", "alice"
    )
    await customer.expect(of_type("welcome"))
    await rep.expect(of_type("welcome"))
    await rep.send("accept", lsid=opened.lsid)
    await rep.expect(of_type("ok", lsid=opened.lsid))
    return opened.lsid, customer, rep


async def shell_output(rep: Client, channel: int, needle: str) -> str:
    """The shell's output on ``channel`` up to ``needle`` (from the ``data``)."""
    seen = b""
    while needle.encode() not in seen:
        line = await rep.expect(of_type("shell_output", channel=channel))
        seen += base64.b64decode(line["data"])
    return seen.decode(errors="replace")


def test_a_command_runs_in_a_shell_through_the_clients_and_is_recorded(
    server: LiveServer, tmp_path: Path
) -> None:
    async def scenario() -> tuple[str, dict[str, Any], dict[str, Any]]:
        _lsid, customer, rep = await start_pair(
            server, "--allow", "shell", "--files-dir", str(tmp_path)
        )
        try:
            await rep.send("shell_open", width=100, height=30)
            channel = (await rep.expect(reply_with("channel")))["channel"]
            await rep.expect(of_type("shell_opened", channel=channel))
            await rep.send("shell_input", channel=channel, text="echo out-$((6*7))\n")
            output = await shell_output(rep, channel, "out-42")
            await rep.send("shell_close", channel=channel)
            await rep.expect(of_type("ok"))

            # A second shell, which the customer revokes.
            await rep.send("shell_open")
            second = (await rep.expect(reply_with("channel")))["channel"]
            await rep.expect(of_type("shell_opened", channel=second))
            await customer.say("/revoke")
            revoked = await customer.expect(of_type("revoked"))
            closed = await rep.expect(of_type("shell_closed", channel=second))
        finally:
            await customer.stop()
            await rep.stop()
        return output, revoked, closed

    output, revoked, closed = asyncio.run(scenario())

    assert "out-42" in output
    assert revoked["shells"] == 1
    assert closed["reason"] == "revoked by the customer"
    with server.runtime.db() as db:
        first = db.query(Recording).filter_by(instance=0).one()
        path = server.data_dir / first.path
        assert first.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    cast = asciicast.parse(path.read_bytes().splitlines())
    assert "out-42" in cast.text()
    assert "echo out-$((6*7))" in cast.text("i")
    assert cast.header["width"] == 100


def test_files_go_both_ways_through_the_clients_with_matching_hashes(
    server: LiveServer, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    (shared / "logs").mkdir(parents=True)
    theirs = os.urandom(3 * 1024 * 1024 + 17)
    (shared / "logs" / "app.log").write_bytes(theirs)
    ours = os.urandom(2 * 1024 * 1024 + 5)
    desk = tmp_path / "desk"  # the representative's own folder
    desk.mkdir()
    (desk / "fix.bin").write_bytes(ours)

    async def scenario() -> tuple[dict[str, Any], ...]:
        _lsid, customer, rep = await start_pair(
            server, "--allow", "files", "--files-dir", str(shared)
        )
        try:
            await rep.say(f"/send {desk / 'fix.bin'} logs/fix.bin")
            sent = await rep.expect(of_type("transfer_done", direction="send"))
            await rep.say(f"/fetch logs/app.log {desk}")
            fetched = await rep.expect(of_type("transfer_done", direction="fetch"))
            await rep.say(f"/fetch logs/app.log {desk / 'fix.bin'}")
            exists = await rep.expect(of_type("transfer_failed"))
            await rep.say(f"/send {desk / 'fix.bin'} ../fix.bin")
            outside = await rep.expect(of_type("transfer_failed"))
        finally:
            await customer.stop()
            await rep.stop()
        return sent, fetched, exists, outside

    sent, fetched, exists, outside = asyncio.run(scenario())

    placed = (shared / "logs" / "fix.bin").read_bytes()
    assert hashlib.sha256(placed).hexdigest() == hashlib.sha256(ours).hexdigest()
    assert sent["match"] is True and sent["size"] == len(ours)
    assert sent["sha256"] == hashlib.sha256(ours).hexdigest()
    got = (desk / "app.log").read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(theirs).hexdigest()
    assert fetched["sha256"] == hashlib.sha256(theirs).hexdigest()
    assert fetched["local"] == str(desk / "app.log")
    assert exists["reason"] == f"{desk / 'fix.bin'} exists; choose another name"
    assert outside["reason"] == "the path leaves the allowed folder (..)"
    # No .part file is left behind, and nothing was written outside.
    assert sorted(p.name for p in desk.iterdir()) == ["app.log", "fix.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "desk", "shared"]


def test_a_scripted_customer_without_allow_refuses_shells_and_files(
    server: LiveServer, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("private")

    async def scenario() -> tuple[dict[str, Any], ...]:
        _lsid, customer, rep = await start_pair(server, "--files-dir", str(tmp_path))
        try:
            await rep.say("/shell")
            channel = (await rep.expect(reply_with("channel")))["channel"]
            shell = await rep.expect(of_type("shell_closed", channel=channel))
            await rep.say("/fetch secret.txt " + str(tmp_path / "copy.txt"))
            fetch = await rep.expect(of_type("transfer_failed"))
        finally:
            await customer.stop()
            await rep.stop()
        return shell, fetch

    shell, fetch = asyncio.run(scenario())

    assert shell["reason"] == "the customer does not allow command shells"
    assert fetch["reason"] == "the customer does not allow file transfer"
    assert not (tmp_path / "copy.txt").exists()


def reply_with(name: str) -> Any:
    return lambda line: line.get("type") == "ok" and name in line
