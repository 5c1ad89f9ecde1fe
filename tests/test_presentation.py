"""Presentations through the real server: presenter, attendees, reports."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from lxml import etree
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import webclient
from livekit import PASSWORD
from presentkit import presenting
from reportkit import N, api_token, report, schema
from serverkit import LiveServer, demo_server
from supportbox.api.reporting import archive
from supportbox.api.reporting.context import ReportContext
from supportbox.api.reporting.links import LinkMaker
from supportbox.auth import links as auth_links
from supportbox.clients.presenter import Presenter
from supportbox.errors import LinkFailed, SessionStateError
from supportbox.presentation import handlers, store
from supportbox.presentation.live import presentations_of
from supportbox.recording.feed import ScreenFeed
from supportbox.runtime import Runtime
from supportbox.screen.codec import Framebuffer
from supportbox.storage.models import Presentation
from videokit import close_to, decoded_bytes, quarters


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("presentations")) as server:
        yield server


@pytest.fixture(scope="module")
def token(live: LiveServer) -> str:
    return api_token(live)


def watch_url(live: LiveServer, key: str, name: str) -> str:
    """What the public site's key box does: the key to the watch page."""
    with live.http() as http:
        answer = http.get("/presentation", params={"key": key, "name": name})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def attend(live: LiveServer, page: str, source: str = "") -> ClientConnection:
    """The watch page's socket, from the loopback address ``source`` if given."""
    path = urlsplit(page)
    token = path.path.rsplit("/", 1)[1]
    url = f"{live.ws_url}/presentation/ws/{token}?{path.query}"
    if not source:
        return connect(url)
    server = urlsplit(live.url)
    assert server.hostname is not None and server.port is not None
    sock = socket.create_connection(
        (server.hostname, server.port), timeout=10, source_address=(source, 0)
    )
    return connect(url, sock=sock)


def first_picture(ws: ClientConnection) -> Framebuffer:
    framebuffer = Framebuffer()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        message = ws.recv(timeout=30)
        if isinstance(message, bytes) and framebuffer.apply(message):
            return framebuffer
    raise AssertionError("no complete screen update arrived")


def test_an_attendee_with_the_key_sees_the_screen_and_reports_tell_it(
    live: LiveServer, token: str, tmp_path: Path
) -> None:
    picture = quarters(320, 200)
    with presenting(live, picture) as running:
        assert running.info is not None
        lsid, key = running.info.lsid, running.info.key
        assert running.info.recording
        page = watch_url(live, key, "Bob")
        assert page.startswith("/presentation/")
        with attend(live, page) as ws:
            hello = json.loads(ws.recv(timeout=30))
            framebuffer = first_picture(ws)
        seen = framebuffer.image()

    assert hello["type"] == "presentation" and hello["lsid"] == lsid
    assert seen.size == (320, 200)
    assert seen.getpixel((80, 50)) == (220, 30, 40)
    assert seen.getpixel((240, 150)) == (240, 240, 240)

    # PresentationSession: the presenter, the attendee, the events
    answer = report(live, token, generate_report="PresentationSession", lsid=lsid)
    root = etree.fromstring(answer.content)
    schema().assertValid(root)
    [session] = root.findall("r:presentation_session", N)
    assert session.get("lsid") == lsid
    presenter = session.find("r:presenter", N)
    assert presenter is not None and presenter.text
    assert presenter.get("gsnumber") == "1" and presenter.get("id") == "1"
    assert session.findtext("r:end_time", namespaces=N)
    names = session.findall("r:attendee_list/r:attendee/r:name", N)
    assert [n.text for n in names] == ["Bob"]
    kinds = [e.get("event_type") for e in session.findall(".//r:event", N)]
    assert kinds[0] == "Session Start" and kinds[-1] == "Session End"
    assert "Conference Member Added" in kinds

    # the listing, and SupportSession does not mistake it for support
    listing = etree.fromstring(
        report(
            live,
            token,
            generate_report="PresentationSessionListing",
            duration="0",
            start_time=str(int(time.time()) - 3600),
        ).content
    )
    schema().assertValid(listing)
    summaries = listing.findall("r:presentation_session_summary", N)
    assert [(s.get("lsid"), s.get("attendee_count")) for s in summaries] == [
        (lsid, "1")
    ]
    support = report(live, token, generate_report="SupportSession", lsid=lsid)
    assert lsid.encode() not in support.content

    # the recording comes back and shows the picture
    video = report(
        live, token, generate_report="PresentationSessionRecording", lsid=lsid
    )
    assert video.headers["content-type"] == "video/mp4"
    assert f'filename="{lsid}.mp4"' in video.headers["content-disposition"]
    [(_t, frame), *_] = decoded_bytes(video.content, tmp_path)
    assert close_to(frame.getpixel((80, 50)), (220, 30, 40))
    link = session.findtext("r:presentation_recording_download_url", namespaces=N)
    assert link
    with httpx.Client() as http:
        assert http.get(link).content == video.content

    # the administrator's session page for it plays the same recording
    admin_page = webclient.admin(live).get(f"/admin/sessions/{lsid}")
    assert admin_page.status_code == 200
    assert 'data-testid="screen-recording"' in admin_page.text


def test_a_late_attendee_starts_from_the_latest_key_update(live: LiveServer) -> None:
    picture = quarters(200, 120)
    with presenting(live, picture, key_every=3600) as running:
        assert running.info is not None
        page = watch_url(live, running.info.key, "Early")
        with attend(live, page) as early:
            first_picture(early)  # the only key update has gone out
        with attend(live, watch_url(live, running.info.key, "Late")) as late:
            late.recv(timeout=30)
            seen = first_picture(late).image()

    assert seen.getpixel((150, 90)) == (240, 240, 240)


def test_an_attendee_is_told_when_the_presentation_ends(live: LiveServer) -> None:
    with presenting(live, quarters(64, 64)) as running:
        assert running.info is not None
        texts = []
        with attend(live, watch_url(live, running.info.key, "Carol")) as ws:
            first_picture(ws)
            running.stop.set()
            while "ended" not in texts:
                message = ws.recv(timeout=30)
                if isinstance(message, str):
                    texts.append(json.loads(message)["type"])
    assert texts[-1] == "ended"


def test_a_wrong_or_ended_key_gets_a_clear_page(live: LiveServer) -> None:
    with presenting(live, quarters(32, 32)) as running:
        assert running.info is not None
        key = running.info.key
    with live.http() as http:
        ended = http.get("/presentation", params={"key": key})
        wrong = http.get("/presentation", params={"key": "not-a-key"})
        form = http.get("/presentation")

    assert ended.status_code == 404 and "presentation" in ended.text
    assert wrong.status_code == 404
    assert form.status_code == 200 and 'name="key"' in form.text


def test_required_recording_that_cannot_be_written_refuses_to_present(
    tmp_path: Path,
) -> None:
    with demo_server(tmp_path, require_screen_recording=True) as server:
        (server.data_dir / "recordings").write_text("not a folder")
        with (
            pytest.raises(LinkFailed, match="recording is required"),
            presenting(server, quarters(32, 32)),
        ):
            pass
        with server.runtime.db() as db:
            assert db.query(Presentation).filter_by(live=True).count() == 0


def test_a_state_archive_lists_a_running_presentation_apart(live: LiveServer) -> None:
    with presenting(live, quarters(32, 32)) as running:
        assert running.info is not None
        signer = auth_links.signer(live.runtime)
        maker = LinkMaker(signer, live.settings.base_url, 60, time.time(), "api:t")
        with live.runtime.db() as db:
            ctx = ReportContext(db, {}, live.settings, maker)
            state = archive.state_snapshot(ctx, time.time())

    lsids = [row["lsid"] for row in (state["presentation_session"] or {}).values()]
    assert running.info.lsid in lsids
    support = state["support_session"] or {}
    assert running.info.lsid not in [row["lsid"] for row in support.values()]
    # no support session runs on this module's server: the presenter is no
    # representative of one
    assert state["representative"] is None


def test_a_presentation_whose_start_is_overtaken_by_a_stop_is_ended(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = presentations_of(live.runtime)
    opened = handlers.start_screen_feed

    async def overtaken(runtime: Runtime, lsid: str, kind: str) -> ScreenFeed | None:
        feed = await opened(runtime, lsid, kind)
        await service.stop()  # the server stops while the recording opens
        return feed

    monkeypatch.setattr(handlers, "start_screen_feed", overtaken)
    try:
        with (
            pytest.raises(LinkFailed, match="ended before it began"),
            presenting(live, quarters(32, 32)),
        ):
            pass
    finally:
        service.stopping = False
    assert service.live == {}
    with live.runtime.db() as db:
        assert db.query(Presentation).filter_by(live=True).count() == 0


def refusal(ws: ClientConnection) -> tuple[str, int | None]:
    """The ``refused`` message of a socket the server turns away, and its code."""
    message = json.loads(ws.recv(timeout=30))
    assert message["type"] == "refused"
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    code = closed.value.rcvd.code if closed.value.rcvd else None
    return str(message["message"]), code


def admitted_within(server: LiveServer, page: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with attend(server, page) as again:
            if json.loads(again.recv(timeout=30))["type"] == "presentation":
                return True
    return False


def test_attendees_are_capped_per_presentation_and_per_address(
    tmp_path: Path,
) -> None:
    limits = {"max_presentation_attendees": 3, "max_attendees_per_address": 2}
    with (
        demo_server(tmp_path, **limits) as server,
        presenting(server, quarters(32, 32)) as running,
    ):
        assert running.info is not None
        page = watch_url(server, running.info.key, "Dan")
        with attend(server, page) as one, attend(server, page) as two:
            for ws in (one, two):
                assert json.loads(ws.recv(timeout=30))["type"] == "presentation"
            with attend(server, page) as third:
                same_address = refusal(third)
            with attend(server, page, "127.0.0.2") as other:
                assert json.loads(other.recv(timeout=30))["type"] == "presentation"
                with attend(server, page, "127.0.0.3") as fourth:
                    full = refusal(fourth)
        # Seats come free when attendees go: once the server has seen them
        # go (their sockets close asynchronously), a newcomer gets one.
        assert admitted_within(server, page, seconds=20)

    assert same_address[1] == 4429 and "from your address" in same_address[0]
    assert full[1] == 4429 and "full (3 attendees)" in full[0]


def test_a_representative_presents_one_presentation_at_a_time(
    live: LiveServer,
) -> None:
    with (
        presenting(live, quarters(32, 32)),
        pytest.raises(LinkFailed, match="already presenting"),
        presenting(live, quarters(32, 32)),
    ):
        pass


def test_an_ended_presentation_takes_no_attendee(live: LiveServer) -> None:
    with presenting(live, quarters(32, 32)) as running:
        assert running.info is not None
        lsid = running.info.lsid
    with (
        live.runtime.write_db() as db,
        db.begin(),
        pytest.raises(SessionStateError, match="ended"),
    ):
        store.join(db, lsid, "Eve", "127.0.0.1")


def test_the_presenter_surfaces_errors_and_fails_fast_when_the_link_drops(
    live: LiveServer,
) -> None:
    service = presentations_of(live.runtime)

    async def drop(lsid: str) -> None:
        await service.get(lsid).presenter.websocket.close(1011)

    async def scenario() -> Presenter:
        presenter = Presenter(live.url, "alice", PASSWORD)
        started = await presenter.open()
        await presenter.send_parts([b"not a screen part"])
        await presenter.request("ping")  # the error frame came before the pong
        await asyncio.to_thread(live.run, drop(started.lsid))
        began = time.monotonic()
        with pytest.raises(LinkFailed, match="connection"):
            await presenter.request("present_stop", lsid=started.lsid)
        assert time.monotonic() - began < 10  # not the 30 s reply timeout
        with pytest.raises(LinkFailed):
            await presenter.send_parts([b"more"])
        await presenter.close()
        return presenter

    presenter = asyncio.run(scenario())
    assert [e["code"] for e in presenter.errors] == ["invalid"]
    assert presenter.gone is not None
