"""A real shell through the real server: output, recording, closing, revoking."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from livekit import open_session, stored_events
from serverkit import LiveServer
from streamkit import customer, representative
from supportbox.recording import asciicast
from supportbox.storage.models import Recording
from supportbox.streams import frames


def test_a_command_runs_and_its_output_reaches_the_rep_and_the_recording(
    server: LiveServer, tmp_path: Path
) -> None:
    opened = open_session(server)

    async def scenario() -> tuple[bytes, dict[str, object], dict[str, object]]:
        cust = await customer(server, opened, files_dir=tmp_path)
        rep = await representative(server)
        await rep.send("accept", lsid=opened.lsid, id="a")
        await rep.expect("ok", re="a")

        await rep.send("shell_open", lsid=opened.lsid, width=100, height=30, id="s")
        channel = (await rep.expect("ok", re="s"))["channel"]
        opened_frame = await rep.expect("shell_opened", channel=channel)
        event = await rep.event("Command Shell Session Started")
        await rep.ws.send(frames.encode(channel, 0, b"echo out-$((6*7))\n"))
        output = await rep.output_until(channel, b"out-42")
        await rep.send("shell_resize", channel=channel, width=120, height=40)
        await rep.send("shell_close", channel=channel, id="c")
        await rep.expect("ok", re="c")
        await cust.close()
        await rep.close()
        return output, opened_frame, event

    output, opened_frame, event = asyncio.run(scenario())

    assert b"out-42" in output
    assert opened_frame["instance"] == 0
    assert event["data"]["instance"] == "0"
    assert event["data"]["view_url"] == opened_frame["view_url"]
    assert event["performed_by"]["type"] == "representative"
    with server.runtime.db() as db:
        row = db.query(Recording).one()
        path = server.data_dir / row.path
        assert row.kind == "shell" and row.instance == 0
        assert row.sha256 is not None and row.size == path.stat().st_size
    cast = asciicast.parse(path.read_bytes().splitlines())
    assert cast.header["width"] == 100
    assert "out-42" in cast.text()
    assert "echo out-$((6*7))" in cast.text("i")
    assert cast.text("r") == "120x40"
    download = str(event["data"]["download_url"])
    with httpx.Client() as http:
        assert http.get(download).content == path.read_bytes()
    parts = urlsplit(download)
    assert parts.netloc == urlsplit(server.url).netloc


def test_the_customer_can_refuse_a_shell_and_revoke_an_open_one(
    server: LiveServer, tmp_path: Path
) -> None:
    opened = open_session(server)

    async def scenario() -> tuple[dict[str, object], dict[str, object], int]:
        cust = await customer(server, opened, allow=(), files_dir=tmp_path)
        rep = await representative(server)
        await rep.send("accept", lsid=opened.lsid, id="a")
        await rep.expect("ok", re="a")

        await rep.send("shell_open", lsid=opened.lsid, id="s1")
        first = (await rep.expect("ok", re="s1"))["channel"]
        refused = await rep.expect("shell_closed", channel=first)

        assert cust.agent is not None
        cust.agent.allow.add("shell")
        await rep.send("shell_open", lsid=opened.lsid, id="s2")
        second = (await rep.expect("ok", re="s2"))["channel"]
        await rep.expect("shell_opened", channel=second)
        await rep.ws.send(frames.encode(second, 0, b"echo still-$((1+1))\n"))
        await rep.output_until(second, b"still-2")
        revoked_count = await cust.agent.revoke()
        revoked = await rep.expect("shell_closed", channel=second)
        await cust.close()
        await rep.close()
        return refused, revoked, revoked_count

    refused, revoked, count = asyncio.run(scenario())

    assert refused["reason"] == "the customer does not allow command shells"
    assert revoked["reason"] == "revoked by the customer"
    assert count == 1
    # The recording is closed (and hashed) off the hot path, a moment later.
    deadline = time.monotonic() + 10
    while True:
        with server.runtime.db() as db:
            rows = [(r.instance, r.sha256 is not None) for r in db.query(Recording)]
        if rows == [(0, True)] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows == [(0, True)]
    started = [
        e
        for e in stored_events(server, opened.lsid)
        if e.event_type == "Command Shell Session Started"
    ]
    assert len(started) == 1


def test_several_shells_get_instances_and_the_shell_exiting_closes_it(
    server: LiveServer, tmp_path: Path
) -> None:
    opened = open_session(server)

    async def scenario() -> list[int]:
        cust = await customer(server, opened, files_dir=tmp_path)
        rep = await representative(server)
        await rep.send("accept", lsid=opened.lsid, id="a")
        await rep.expect("ok", re="a")
        instances = []
        for n in range(2):
            await rep.send("shell_open", lsid=opened.lsid, id=f"s{n}")
            channel = (await rep.expect("ok", re=f"s{n}"))["channel"]
            instances.append(
                (await rep.expect("shell_opened", channel=channel))["instance"]
            )
        await rep.ws.send(frames.encode(channel, 0, b"exit\n"))
        closed = await rep.expect("shell_closed", channel=channel)
        assert closed["reason"] == "the shell exited"
        await cust.close()
        await rep.close()
        return instances

    assert asyncio.run(scenario()) == [0, 1]
