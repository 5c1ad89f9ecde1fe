"""A shared screen's recording through the real server and the Reporting API."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from lxml import etree

import webclient
from livekit import hub, on_server, open_session
from reportkit import N, api_token, report, schema
from serverkit import LiveServer, demo_server
from supportbox.errors import RecordingRequired, SessionStateError
from supportbox.recording import access, screen
from supportbox.recording.sharing import (
    open_screen_recorder,
    recorder_for,
    start_screen_feed,
)
from supportbox.runtime import Runtime
from supportbox.screen.codec import Framebuffer
from supportbox.storage.models import Recording, RecordingAccess
from test_recording_store import verify
from videokit import close_to, decoded_bytes, key_parts, quarters


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("screens")) as server:
        yield server


@pytest.fixture(scope="module")
def token(live: LiveServer) -> str:
    return api_token(live)


def share(live: LiveServer, lsid: str, parts: list[bytes]) -> None:
    """What the relay does for a screen channel: open, feed, close."""

    async def scenario() -> None:
        feed = await start_screen_feed(live.runtime, lsid)
        assert feed is not None
        for part in parts:
            feed.part(part)
        await feed.aclose()

    on_server(live, scenario())


def test_a_shared_screen_comes_back_as_an_mp4_showing_the_picture(
    live: LiveServer, token: str, tmp_path: Path
) -> None:
    lsid = open_session(live).lsid
    before = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)
    assert b"No recording exists for the given session." in before.content

    share(live, lsid, key_parts(quarters(320, 240)))
    on_server(live, hub(live).end(lsid))
    answer = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="{lsid}.mp4"'
    )
    [(_t, picture), *_] = decoded_bytes(answer.content, tmp_path)
    assert close_to(picture.getpixel((80, 60)), (220, 30, 40))
    assert close_to(picture.getpixel((240, 180)), (240, 240, 240))
    with live.runtime.db() as db:
        row = db.query(Recording).filter_by(path=f"recordings/{lsid}/screen-0.mp4")
        assert row.one().size == len(answer.content)


def test_the_session_report_links_the_recording_and_each_use_is_audited(
    live: LiveServer, token: str, tmp_path: Path
) -> None:
    lsid = open_session(live).lsid
    share(live, lsid, key_parts(quarters(64, 64)))
    running = report(live, token, generate_report="SupportSession", lsid=lsid)
    assert b"session_recording_view_url" not in running.content  # not ended

    on_server(live, hub(live).end(lsid))
    root = etree.fromstring(
        report(live, token, generate_report="SupportSession", lsid=lsid).content
    )
    schema().assertValid(root)
    view = root.findtext("r:session/r:session_recording_view_url", namespaces=N)
    download = root.findtext("r:session/r:session_recording_download_url", namespaces=N)
    assert view and download
    with httpx.Client() as http:
        viewed = http.get(view)
        fetched = http.get(download)

    assert viewed.headers["content-type"] == "video/mp4"
    assert viewed.headers["content-disposition"].startswith("inline")
    assert fetched.headers["content-disposition"].startswith("attachment")
    assert viewed.content == fetched.content
    assert decoded_bytes(fetched.content, tmp_path)
    with live.runtime.db() as db:
        recording = db.query(Recording).filter_by(
            path=f"recordings/{lsid}/screen-0.mp4"
        )
        trail = db.query(RecordingAccess).filter_by(recording_id=recording.one().id)
        uses = [(a.action, a.actor) for a in trail.order_by(RecordingAccess.id)]
    assert [action for action, _ in uses] == [access.VIEW, access.DOWNLOAD]
    assert all(actor.startswith("api:") for _, actor in uses)


def test_verify_checks_screen_recordings_too(live: LiveServer) -> None:
    lsid = open_session(live).lsid
    share(live, lsid, key_parts(quarters(48, 48)))
    assert verify(live).returncode == 0

    path = live.data_dir / "recordings" / lsid / "screen-0.mp4"
    with path.open("ab") as handle:
        handle.write(b"tampered")
    broken = verify(live)
    path.write_bytes(path.read_bytes()[: -len(b"tampered")])

    assert broken.returncode == 1
    assert f"changed: recordings/{lsid}/screen-0.mp4" in broken.stdout


def test_a_sharing_without_any_picture_leaves_no_recording(live: LiveServer) -> None:
    lsid = open_session(live).lsid
    share(live, lsid, [])

    with live.runtime.db() as db:
        assert not db.query(Recording).filter(Recording.path.contains(lsid)).all()
    assert not (live.data_dir / "recordings" / lsid / "screen-0.mp4").exists()


def test_required_recording_that_cannot_be_written_refuses_sharing(
    tmp_path: Path,
) -> None:
    with demo_server(tmp_path, require_screen_recording=True) as server:
        lsid = open_session(server).lsid
        (server.data_dir / "recordings").write_text("not a folder")

        with pytest.raises(RecordingRequired, match="recording is required"):
            open_screen_recorder(server.runtime, lsid)
        with pytest.raises(SessionStateError):  # the relay refuses the sharing
            on_server(server, recorder_for(Shared(server.runtime, lsid)))

        relaxed = server.runtime.settings.replace(require_screen_recording=False)
        server.runtime.settings = relaxed
        assert open_screen_recorder(server.runtime, lsid) is None
        off = relaxed.replace(screen_recording=False)
        server.runtime.settings = off
        os.remove(server.data_dir / "recordings")
        assert open_screen_recorder(server.runtime, lsid) is None
        with server.runtime.db() as db:
            assert db.query(Recording).count() == 0


def test_the_admin_session_page_plays_the_mp4_through_an_audited_link(
    live: LiveServer, tmp_path: Path
) -> None:
    lsid = open_session(live).lsid
    share(live, lsid, key_parts(quarters(96, 64)))
    on_server(live, hub(live).end(lsid))

    browser = webclient.admin(live)
    page = browser.get(f"/admin/sessions/{lsid}").text
    browser.close()
    found = re.search(r'<video [^>]*src="([^"]+)"', page)
    assert found is not None
    with httpx.Client() as http:
        video = http.get(html.unescape(found.group(1)))

    assert video.headers["content-type"] == "video/mp4"
    [(_t, picture), *_] = decoded_bytes(video.content, tmp_path)
    assert close_to(picture.getpixel((10, 10)), (220, 30, 40))
    with live.runtime.db() as db:
        last = db.query(RecordingAccess).order_by(RecordingAccess.id.desc()).first()
        assert last is not None
        assert (last.action, last.actor) == (access.VIEW, "web:admin")


@dataclass(frozen=True)
class Shared:
    """What the relay tells a recorder factory (its ScreenSource)."""

    runtime: Runtime
    lsid: str


def test_the_relays_recorder_factory_records_its_framebuffer(
    live: LiveServer, token: str, tmp_path: Path
) -> None:
    lsid = open_session(live).lsid
    framebuffer = Framebuffer()

    async def relay_side() -> None:
        # as the relay does: draw each part, hand over completed pictures
        recorder = await recorder_for(Shared(live.runtime, lsid))
        assert recorder is not None
        for step, part in enumerate(key_parts(quarters(128, 96))):
            if framebuffer.apply(part):
                width, height = framebuffer.size
                recorder.frame(framebuffer.rgb(), width, height, step * 0.2)
        path, sha256, size = await asyncio.to_thread(recorder.close)
        assert path.endswith(f"{lsid}/screen-0.mp4") and size > 0 and sha256

    on_server(live, relay_side())
    answer = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)

    [(_t, picture), *_] = decoded_bytes(answer.content, tmp_path)
    assert close_to(picture.getpixel((96, 72)), (240, 240, 240))


def test_a_recording_whose_encoder_fails_is_removed_and_logged(
    live: LiveServer,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_args: object) -> object:
        raise ValueError("forced encoder failure")

    monkeypatch.setattr(screen, "picture", broken)
    lsid = open_session(live).lsid
    with caplog.at_level(logging.ERROR):
        share(live, lsid, key_parts(quarters(64, 48)))

    assert f"session {lsid}: screen recording 0 failed" in caplog.text
    with live.runtime.db() as db:
        assert db.query(Recording).filter(Recording.path.contains(lsid)).count() == 0
    assert not list((live.data_dir / "recordings" / lsid).glob("*.mp4"))
    on_server(live, hub(live).end(lsid))
    answer = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)
    assert b"No recording exists for the given session." in answer.content
