"""A real X screen shared through the stream relay comes back as an MP4.

Needs the screen-sharing side (``supportbox.screen.agent``, the relay's
screen channels and ``tests/screenkit.py``) and the recorder factory
wired into the relay (``relay.screens.recorder_factory = recorder_for``);
until both are there, this module is skipped.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from livekit import hub, on_server
from reportkit import run
from serverkit import LiveServer
from supportbox.api.reporting.context import FileBody
from supportbox.errors import NotFound
from videokit import close_to, decoded

pytest.importorskip("supportbox.screen.agent", reason="screen sharing is not merged")
screenkit = pytest.importorskip("screenkit")

x_window = screenkit.x_window
xvfb = screenkit.xvfb


def test_a_shared_x_screen_is_recorded_and_reported(
    server: LiveServer, x_window: Any, tmp_path: Path
) -> None:
    session = screenkit.new_session(server)
    lsid = session.lsid
    display = x_window.display.get_display_name()

    async def scenario() -> None:
        cust, rep, channel = await screenkit.sharing(
            server, session, display, ("screen",)
        )
        await rep.expect("screen_opened", channel=channel)
        await screenkit.Viewer(rep, channel).until(screenkit.expected_picture())
        await rep.send("screen_close", channel=channel, id="x")
        await rep.expect("ok", re="x")
        await cust.close()
        await rep.close()

    asyncio.run(scenario())
    on_server(server, hub(server).end(lsid))
    # the relay closes the recording off the loop, a moment after the close
    deadline = time.monotonic() + 20
    while True:
        try:
            found = run(server.runtime, "SupportSessionRecording", {"lsid": lsid})
            break
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

    assert isinstance(found, FileBody) and found.media_type == "video/mp4"
    [(_t, picture), *_] = decoded(found.path)
    wanted = screenkit.expected_picture()
    for point in ((10, 10), (wanted.width - 10, 200)):
        assert close_to(picture.getpixel(point), wanted.getpixel(point)), point
