"""Screen update parts in, recorded frames out.

A presentation hands :meth:`ScreenFeed.part` each screen update part the
presenter sends; the call queues the bytes and returns. (The relay of
support sessions does not use a feed: it keeps its own framebuffer and
hands whole pictures to a recorder from
:func:`supportbox.recording.sharing.recorder_for`, wired in
``features.py``.) The
feed's thread pastes the parts into a framebuffer
(:class:`supportbox.screen.codec.Framebuffer`) and gives the recorder the
whole picture each time an update completes. When more than ``buffer``
bytes of parts wait, new parts are dropped and the framebuffer starts
over from the next key update, so a recording can lose a stretch of
picture but never holds the session back. A part that cannot be applied
(malformed, or any other error, which is logged) also makes the
framebuffer start over from the next key update; the thread never stops
before :meth:`ScreenFeed.close`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable

from supportbox.errors import InvalidInput
from supportbox.logs import log
from supportbox.recording.screen import Closed, ScreenRecorder
from supportbox.screen.codec import Framebuffer

#: Bytes of parts a feed may hold before it drops some.
DEFAULT_BUFFER = 16 * 1024 * 1024

_Item = tuple[bytes, float] | None


class ScreenFeed:
    """Feeds one :class:`ScreenRecorder` from the parts of one screen."""

    def __init__(
        self,
        recorder: ScreenRecorder,
        *,
        buffer: int = DEFAULT_BUFFER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.dropped_parts = 0
        self._buffer = buffer
        self._clock = clock
        self._start = clock()
        self._queued = 0
        self._gap = False
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._framebuffer = Framebuffer()
        self._thread = threading.Thread(
            target=self._run, name="screen-feed", daemon=True
        )
        self._thread.start()

    def part(self, data: bytes) -> None:
        """Queue one part as it arrived; never blocks."""
        at = self._clock() - self._start
        with self._lock:
            if self._queued + len(data) > self._buffer:
                self.dropped_parts += 1
                self._gap = True
                return
            self._queued += len(data)
        self._queue.put((data, at))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            data, at = item
            try:
                with self._lock:
                    if self._gap:
                        self._gap = False
                        self._framebuffer = Framebuffer()  # wait for a key update
                self._apply(data, at)
            except Exception:
                # whatever went wrong, the thread goes on: the recording
                # resumes at the next key update
                log.exception("screen recording: a part could not be recorded")
                self._framebuffer = Framebuffer()
            finally:
                with self._lock:
                    self._queued -= len(data)

    def _apply(self, data: bytes, at: float) -> None:
        framebuffer = self._framebuffer
        try:
            complete = framebuffer.apply(data)
        except InvalidInput as exc:
            log.warning("screen recording skips a part: %s", exc)
            self._framebuffer = Framebuffer()
            return
        if complete:
            width, height = framebuffer.size
            self.recorder.frame(framebuffer.rgb(), width, height, at)

    def close(self) -> Closed:
        """Record what is queued, then close the recorder; blocks."""
        self._queue.put(None)
        self._thread.join()
        return self.recorder.close(self._clock() - self._start)

    async def aclose(self) -> Closed:
        """:meth:`close` off the event loop."""
        return await asyncio.to_thread(self.close)
