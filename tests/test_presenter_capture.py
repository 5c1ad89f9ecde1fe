"""The presenter's capture and tiling, on a real X server (Xvfb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from websockets.sync.client import connect

from livekit import PASSWORD
from serverkit import LiveServer
from supportbox.clients.presenter import ScreenSource, Tiler
from supportbox.screen.codec import Framebuffer, decode_part
from videokit import quarters

XVFB = shutil.which("Xvfb")


@pytest.fixture
def display() -> Iterator[str]:
    """A 320x200 X server with a white root window, on a free display."""
    if XVFB is None:
        pytest.skip("Xvfb is missing; run tools/install-system.sh")
    read, write = os.pipe()
    server = subprocess.Popen(
        [XVFB, "-displayfd", str(write), "-screen", "0", "320x200x24", "-wr"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield os.environ["DISPLAY"]
    finally:
        server.terminate()
        server.wait(10)
        if previous is None:
            del os.environ["DISPLAY"]
        else:
            os.environ["DISPLAY"] = previous


def test_the_screen_source_captures_the_x_screen(display: str) -> None:
    screen = ScreenSource()
    picture = screen.grab()
    screen.close()

    assert picture.size == (320, 200)
    assert picture.getpixel((10, 10)) == (255, 255, 255)
    assert picture.getpixel((310, 190)) == (255, 255, 255)


def test_the_tiler_sends_a_key_update_then_only_what_changed() -> None:
    tiler = Tiler(tile=64)
    before = quarters(256, 128)
    after = before.copy()
    after.paste((0, 0, 0), (70, 10, 80, 20))  # inside the tile at (64, 0)

    first = [decode_part(p) for p in tiler.parts(before, key=False)]
    unchanged = tiler.parts(before.copy(), key=False)
    changed = [decode_part(p) for p in tiler.parts(after, key=False)]
    framebuffer = Framebuffer()
    for part in tiler.parts(after, key=True):
        framebuffer.apply(part)

    assert first[0].key and sum(len(p.tiles) for p in first) == 8
    assert unchanged == []
    assert [(t.x, t.y) for p in changed for t in p.tiles] == [(64, 0)]
    assert not changed[0].key
    assert framebuffer.image().tobytes() == after.tobytes()
    assert framebuffer.image().getpixel((75, 15)) == (0, 0, 0)  # the change
    assert framebuffer.image().getpixel((10, 10)) == before.getpixel((10, 10))


def test_supportbox_present_shows_the_x_screen_to_an_attendee(
    display: str, server: LiveServer
) -> None:
    command = [sys.executable, "-m", "supportbox", "present"]
    command += ["--server", server.url, "--username", "alice", "--seconds", "20"]
    env = dict(os.environ, SUPPORTBOX_PASSWORD=PASSWORD, DISPLAY=display)
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, text=True
    ) as presenter:
        assert presenter.stdout is not None
        key = presenter.stdout.readline().split(": ")[1].strip()
        with server.http() as http:
            page = http.get("/presentation", params={"key": key}).headers["location"]
        token = page.split("/presentation/")[1].split("?")[0]
        with connect(f"{server.ws_url}/presentation/ws/{token}") as ws:
            framebuffer = Framebuffer()
            while not (
                isinstance(message := ws.recv(timeout=30), bytes)
                and framebuffer.apply(message)
            ):
                pass
        presenter.terminate()

    seen = framebuffer.image()
    assert seen.size == (320, 200)
    assert seen.getpixel((160, 100)) == (255, 255, 255)
