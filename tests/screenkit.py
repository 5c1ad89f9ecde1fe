"""A real X server (Xvfb) and a test window that shows a known picture
and writes down the clicks and keys it receives."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw
from Xlib import XK, X, display

from livekit import open_session
from serverkit import LiveServer
from streamkit import Side, customer, representative
from supportbox.core.hub import OpenedSession
from supportbox.screen.agent import ScreenAgent
from supportbox.screen.codec import Framebuffer, decode_part
from supportbox.streams import frames

WIDTH, HEIGHT = 320, 240

#: The picture: a background and rectangles, as (box, colour).
BACKGROUND = (20, 40, 60)
RECTANGLES = [
    ((0, 0, 160, 120), (255, 0, 0)),
    ((160, 120, 320, 240), (0, 200, 0)),
    ((200, 20, 300, 60), (250, 250, 0)),
    ((30, 150, 90, 230), (0, 0, 255)),
]


def expected_picture(more: list[Any] | None = None) -> Image.Image:
    """The picture, with ``more`` rectangles drawn over it."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for (x0, y0, x1, y1), colour in [*RECTANGLES, *(more or [])]:
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=colour)
    return image


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A fresh Xvfb; its display name, e.g. ``:42``."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (tools/install-system.sh installs xvfb)")
    read, write = os.pipe()
    process = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    # Xvfb writes its display number once it accepts connections.
    with os.fdopen(read) as ready:
        number = ready.readline().strip()
    if not number:
        process.kill()
        process.wait()
        pytest.skip("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)


class XWindow:
    """A full-screen window drawing the picture, with keyboard focus.

    A thread reads its X events; :meth:`wait` blocks until a condition on
    what was received holds.
    """

    def __init__(self, name: str) -> None:
        self.display = display.Display(name)
        screen = self.display.screen()
        self.root = screen.root
        self.window = self.root.create_window(
            0,
            0,
            WIDTH,
            HEIGHT,
            0,
            screen.root_depth,
            override_redirect=True,
            background_pixel=screen.black_pixel,
            event_mask=X.ExposureMask
            | X.KeyPressMask
            | X.ButtonPressMask
            | X.PointerMotionMask,
        )
        self.gc = self.window.create_gc()
        self.rectangles: list[Any] = [((0, 0, WIDTH, HEIGHT), BACKGROUND), *RECTANGLES]
        self.typed = ""
        self.clicks: list[tuple[int, int, int]] = []
        self.exposed = 0
        self.moved: tuple[int, int] | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self.window.map()
        self.display.sync()
        # The first picture and the focus are set up before the event
        # thread starts: a request that waits for its reply (sync) while
        # that thread reads the connection may never see the reply.
        while True:
            event = self.display.next_event()
            if event.type == X.Expose and event.count == 0:
                break
        self._draw()
        self.exposed = 1
        self.window.set_input_focus(X.RevertToParent, X.CurrentTime)
        self.display.sync()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _draw(self) -> None:
        colormap = self.display.screen().default_colormap
        for (x0, y0, x1, y1), (r, g, b) in self.rectangles:
            pixel = colormap.alloc_color(r * 257, g * 257, b * 257).pixel
            self.gc.change(foreground=pixel)
            self.window.fill_rectangle(self.gc, x0, y0, x1 - x0, y1 - y0)
        self.display.sync()

    def repaint(self, rectangles: list[Any]) -> None:
        """Draw more rectangles over the picture (no clearing in between)."""
        with self._changed:
            self.rectangles += rectangles
            colormap = self.display.screen().default_colormap
            for (x0, y0, x1, y1), (r, g, b) in rectangles:
                pixel = colormap.alloc_color(r * 257, g * 257, b * 257).pixel
                self.gc.change(foreground=pixel)
                self.window.fill_rectangle(self.gc, x0, y0, x1 - x0, y1 - y0)
            self.display.sync()

    def _run(self) -> None:
        # The connection is read only under the lock, which repaint()
        # holds while it waits for its reply.
        while not self._stop.is_set():
            with self._changed:
                if self.display.pending_events():
                    self._handle(self.display.next_event())
                    continue
            # python-xlib has no blocking wait with a timeout; poll lightly.
            self._stop.wait(0.005)

    def _handle(self, event: Any) -> None:
        if event.type == X.Expose and event.count == 0:
            self._draw()
            self.exposed += 1
        elif event.type == X.KeyPress:
            shifted = 1 if event.state & X.ShiftMask else 0
            keysym = self.display.keycode_to_keysym(event.detail, shifted)
            # modifiers (Shift_L, ...) have no text of their own
            self.typed += XK.keysym_to_string(keysym) or ""
        elif event.type == X.MotionNotify:
            self.moved = (event.root_x, event.root_y)
        elif event.type == X.ButtonPress:
            self.clicks.append((event.detail, event.event_x, event.event_y))
        self._changed.notify_all()

    def wait(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        with self._changed:
            if not self._changed.wait_for(condition, timeout):
                raise AssertionError(
                    f"the window did not see it: {self.typed!r} {self.clicks}"
                )

    def pointer(self) -> tuple[int, int]:
        """Where the X server says the pointer is."""
        reply = display.Display(self.display.get_display_name())
        try:
            where = reply.screen().root.query_pointer()
            return where.root_x, where.root_y
        finally:
            reply.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.display.close()


@pytest.fixture
def x_window(xvfb: str) -> Iterator[XWindow]:
    window = XWindow(xvfb)
    try:
        yield window
    finally:
        window.close()


# sharing an X screen through the real server


class Viewer:
    """The representative's side of a screen: draws parts, acknowledges.

    ``tiles`` is the number of tiles of the last update drawn.
    """

    def __init__(self, rep: Side, channel: int, ack: bool = True) -> None:
        self.rep, self.channel, self.ack = rep, channel, ack
        self.framebuffer = Framebuffer()
        self.tiles = 0
        self._counting = 0

    async def until(self, picture: Image.Image, timeout: float = 30) -> int:
        """Draw updates until the screen shows ``picture``; how many it took."""

        async def draw() -> int:
            seen = 0
            while True:
                if await self.next_update():
                    seen += 1
                    if self.framebuffer.image().tobytes() == picture.tobytes():
                        return seen

        return await asyncio.wait_for(draw(), timeout)

    async def next_update(self) -> bool:
        number, _chunk, data = frames.decode(await self.rep.data.get())
        if number != self.channel:
            return False
        part = decode_part(bytes(data))
        self._counting += len(part.tiles)
        if not self.framebuffer.apply(part):
            return False
        self.tiles, self._counting = self._counting, 0
        if self.ack:
            await self.rep.send(
                "screen_ack", channel=number, update=self.framebuffer.updates
            )
        return True


def new_session(server: LiveServer) -> OpenedSession:
    return open_session(server)


async def sharing(
    server: LiveServer, opened: OpenedSession, display: str, allow: tuple[str, ...]
) -> tuple[Side, Side, int]:
    """A customer with the real screen agent on ``display``, and a rep who
    accepted the session and asked for the screen: (customer, rep, channel)."""
    cust = await customer(server, opened, allow=())
    cust.screen = ScreenAgent(
        cust.send_frame, cust.ws.send, allow=allow, display=display
    )
    rep = await representative(server)
    await rep.send("accept", lsid=opened.lsid, id="a")
    await rep.expect("ok", re="a")
    await rep.send("screen_open", lsid=opened.lsid, id="s")
    channel: int = (await rep.expect("ok", re="s"))["channel"]
    return cust, rep, channel
