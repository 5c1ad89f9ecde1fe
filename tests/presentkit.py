"""A presenter on its own thread, for tests that also drive a browser."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from livekit import PASSWORD
from serverkit import LiveServer
from supportbox.clients.presenter import Presenter, Started


class Picture:
    """A screen that shows one picture (a test's stand-in for mss)."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image

    def grab(self) -> Image.Image:
        return self.image


class Presenting:
    """``supportbox present`` run against ``server`` on a thread."""

    def __init__(self, server: LiveServer, image: Image.Image, key_every: float):
        self.server = server
        self.source = Picture(image)
        self.key_every = key_every
        self.started = threading.Event()
        self.stop = threading.Event()
        self.info: Started | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.started.set()

    async def _main(self) -> None:
        presenter = Presenter(self.server.url, "alice", PASSWORD)
        self.info = await presenter.open()
        self.started.set()
        try:
            await presenter.share(
                self.source, fps=10, key_every=self.key_every, until=self.stop.is_set
            )
        finally:
            await presenter.close()


@contextmanager
def presenting(
    server: LiveServer, image: Image.Image, key_every: float = 60.0
) -> Iterator[Presenting]:
    """A running presentation of ``image``; it ends when the block does."""
    running = Presenting(server, image, key_every)
    running.thread.start()
    assert running.started.wait(30)
    if running.error is not None:
        raise running.error
    try:
        yield running
    finally:
        running.stop.set()
        running.thread.join(30)
    if running.error is not None:
        raise running.error
