"""Signed view and download links of shell recordings, and their audit trail."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from serverkit import LiveServer
from supportbox.auth.links import Claims, Signer, signer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.errors import PermissionDenied
from supportbox.recording import access, links
from supportbox.recording.shell import ShellRecorder


def recorded_shell(server: LiveServer) -> ShellRecorder:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Jane"))

    async def scenario() -> ShellRecorder:
        lsid = (await hub.open_session(request)).lsid
        recorder = await ShellRecorder.start(server.runtime, lsid, 80, 24)
        recorder.output(b"$ uptime\r\n up 3 days\r\n")
        await recorder.close()
        return recorder

    return asyncio.run(scenario())


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_signed_token_verifies_and_any_change_breaks_it() -> None:
    key = Signer(b"k" * 32)
    token = key.sign(Claims("recording-view", "abc/shell/0", "api:x", 2_000_000_000))

    claims = key.verify(token, "recording-view", now=1_900_000_000)

    assert claims == Claims("recording-view", "abc/shell/0", "api:x", 2_000_000_000)
    payload, mac = token.split(".")
    for forged in (f"{payload}x.{mac}", f"{payload}.{mac[:-2]}", "", "a.b"):
        with pytest.raises(PermissionDenied, match="not valid"):
            key.verify(forged, "recording-view")
    with pytest.raises(PermissionDenied, match="not valid"):
        key.verify(token, "recording-download", now=1_900_000_000)
    with pytest.raises(PermissionDenied, match="expired"):
        key.verify(token, "recording-view", now=2_000_000_001)
    with pytest.raises(PermissionDenied, match="not valid"):
        Signer(b"o" * 32).verify(token, "recording-view", now=1_900_000_000)


def test_the_download_link_returns_the_cast_file_and_is_audited(
    server: LiveServer,
) -> None:
    recorder = recorded_shell(server)
    urls = links.shell_links(server.runtime, recorder.lsid, 0, "api:integration")

    with server.http() as http:
        response = http.get(path_of(urls.download_url))

    assert urls.download_url.startswith(server.url + "/recordings/download?t=")
    assert response.status_code == 200
    assert response.content == recorder.path.read_bytes()
    assert response.headers["content-type"] == "application/x-asciicast"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{recorder.lsid}-shell-0.cast"'
    )
    with server.runtime.db() as db:
        trail = access.history(db, recorder.id)
        assert [(a.action, a.actor, a.client_ip) for a in trail] == [
            ("download", "api:integration", "127.0.0.1")
        ]
        assert trail[0].at <= time.time()


def test_the_view_link_shows_the_player_which_plays_the_recording(
    server: LiveServer,
) -> None:
    recorder = recorded_shell(server)
    urls = links.shell_links(server.runtime, recorder.lsid, 0, "user:7")

    with server.http() as http:
        page = http.get(path_of(urls.view_url))
        scripts = re.findall(r'<script src="([^"]+)"', page.text)
        styles = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
        player_js = http.get(scripts[0])
        player_css = http.get(styles[0])
        play_url = re.search(r'AsciinemaPlayer.create\("([^"]+)"', page.text)
        assert play_url is not None
        played = http.get(play_url.group(1).replace("\\u0026", "&"))
        download = re.search(r'<a href="([^"]+)">Download', page.text)
        assert download is not None
        downloaded = http.get(download.group(1).replace("&amp;", "&"))

    assert page.status_code == 200
    assert "Every viewing is recorded" in page.text
    assert scripts == ["/vendor/asciinema-player/asciinema-player.min.js"]
    assert player_js.status_code == 200 and "AsciinemaPlayer" in player_js.text
    assert player_css.status_code == 200
    assert played.status_code == 200
    assert played.content == recorder.path.read_bytes()
    assert downloaded.status_code == 200
    with server.runtime.db() as db:
        trail = access.history(db, recorder.id)
        assert [(a.action, a.actor) for a in trail] == [
            ("view", "user:7"),
            ("play", "user:7"),
            ("download", "user:7"),
        ]


def test_forged_expired_and_misused_links_are_refused_and_not_audited(
    server: LiveServer,
) -> None:
    recorder = recorded_shell(server)
    urls = links.shell_links(server.runtime, recorder.lsid, 0, "api:x")
    token = parse_qs(urlsplit(urls.view_url).query)["t"][0]
    expired = signer(server.runtime).sign(
        Claims(links.DOWNLOAD, f"{recorder.lsid}/shell/0", "api:x", 1)
    )

    with server.http() as http:
        forged = http.get("/recordings/download", params={"t": token[:-3] + "abc"})
        old = http.get("/recordings/download", params={"t": expired})
        wrong_kind = http.get("/recordings/download", params={"t": token})
        missing = http.get("/recordings/view")

    assert (forged.status_code, forged.text) == (403, "the link is not valid\n")
    assert (old.status_code, old.text) == (403, "the link has expired\n")
    assert wrong_kind.status_code == 403
    assert missing.status_code == 403
    with server.runtime.db() as db:
        assert access.history(db, recorder.id) == []


def test_a_vanished_recording_file_is_a_clear_not_found(server: LiveServer) -> None:
    recorder = recorded_shell(server)
    urls = links.shell_links(server.runtime, recorder.lsid, 0, "api:x")
    other = links.shell_links(server.runtime, recorder.lsid, 5, "api:x")
    recorder.path.unlink()

    with server.http() as http:
        gone = http.get(path_of(urls.download_url))
        never = http.get(path_of(other.view_url))

    assert (gone.status_code, gone.text) == (404, "the recording file is missing\n")
    assert (never.status_code, never.text) == (404, "the recording does not exist\n")
