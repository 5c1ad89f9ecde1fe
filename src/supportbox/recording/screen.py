"""Recording a shared screen to a standard MP4 (H.264, yuv420p).

The relay (or a presentation) hands :meth:`ScreenRecorder.frame` the whole
framebuffer each time an update completes; the call only queues it and
returns. A thread of the recorder converts and encodes the frames through
PyAV (FFmpeg's libx264) and writes the file. The queue holds at most
``backlog`` frames: when the encoder or the disk falls behind, a new frame
replaces the newest waiting one (the picture stays current, some
intermediate pictures are lost, the session never waits). The count of
replaced frames is :attr:`ScreenRecorder.dropped`.

Frame times come from ``at`` (seconds since the recording started), in a
millisecond time base, so an idle screen costs nothing and a busy one is
as smooth as its updates. The video has the size of the first frame,
rounded up to even numbers (H.264 in yuv420p needs them; the extra row or
column is black); a later frame of another size is scaled to it.

When encoding or writing fails, the recorder logs it at ERROR, encodes
no further frame and closes with :attr:`ScreenRecorder.error` set and
an empty file: the caller removes the recording (a broken file is never
offered).

A session's recorder is opened with
:func:`supportbox.recording.sharing.open_screen_recorder`, which creates
its ``recording`` row and stores the hash there when it closes.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
from PIL import Image

from supportbox.digests import file_sha256
from supportbox.logs import log

CODEC = "libx264"
PIXEL_FORMAT = "yuv420p"
TIME_BASE = Fraction(1, 1000)

#: Frames that may wait for the encoder before new ones replace them.
DEFAULT_BACKLOG = 4

_Frame = tuple[bytes, int, int, float]


class Closed(NamedTuple):
    """A finished recording: its file name, hex SHA-256 and size in bytes."""

    path: str
    sha256: str
    size: int


def check_encoder() -> None:
    """Raise :class:`RuntimeError` when FFmpeg has no H.264 encoder."""
    try:
        av.codec.Codec(CODEC, "w")
    except Exception as exc:  # PyAV raises several kinds for a missing codec
        raise RuntimeError(f"the {CODEC} encoder is not available") from exc


def even(value: int) -> int:
    return value + (value & 1)


def picture(rgb: bytes, width: int, height: int, size: tuple[int, int]) -> Image.Image:
    """The framebuffer as an image of ``size``: padded when only evened up."""
    image = Image.frombytes("RGB", (width, height), rgb)
    if (width, height) == size:
        return image
    if (even(width), even(height)) == size:
        padded = Image.new("RGB", size)
        padded.paste(image, (0, 0))
        return padded
    return image.resize(size)


class ScreenRecorder:
    """One MP4 file written by its own thread; see the module docstring.

    The file is created when the recorder is; :meth:`frame` never blocks
    on the encoder or the disk; :meth:`close` does: it returns once every
    queued frame is written and the file is complete, then calls
    ``on_close`` (which stores the hash with the session).
    """

    def __init__(
        self,
        path: Path,
        *,
        backlog: int = DEFAULT_BACKLOG,
        on_close: Callable[[Closed], None] | None = None,
    ) -> None:
        check_encoder()
        self.path = path
        self.frames = 0
        self.dropped = 0
        self.error: str | None = None
        self._backlog = max(1, backlog)
        self._on_close = on_close
        self._queue: collections.deque[_Frame] = collections.deque()
        self._ready = threading.Condition()
        self._closing = False
        self._closed: Closed | None = None
        self._last: _Frame | None = None
        self._last_pts = -1
        self._container = av.open(str(path), "w", format="mp4")
        self._stream: av.VideoStream | None = None
        self._thread = threading.Thread(
            target=self._run, name="screen-recorder", daemon=True
        )
        self._thread.start()

    # the hot path

    def frame(self, rgb: bytes, width: int, height: int, at: float) -> None:
        """Queue the framebuffer ``rgb`` (``width`` x ``height``) seen at ``at``."""
        if len(rgb) != width * height * 3 or width <= 0 or height <= 0:
            raise ValueError("the frame is not width x height RGB pixels")
        item = (rgb, width, height, at)
        with self._ready:
            if self._closing:
                return
            if len(self._queue) >= self._backlog:
                self._queue[-1] = item
                self.dropped += 1
            else:
                self._queue.append(item)
            self._ready.notify()

    # the encoder thread

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                item = self._queue.popleft()
            self._encode(item)

    def _encode(self, item: _Frame) -> None:
        if self.error is not None:
            return
        rgb, width, height, at = item
        pts = max(round(at / TIME_BASE), self._last_pts + 1)
        try:
            stream = self._stream or self._open_stream(width, height)
            size = (stream.codec_context.width, stream.codec_context.height)
            image = picture(rgb, width, height, size)
            video = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            video.pts = pts
            video.time_base = TIME_BASE
            for packet in stream.encode(video):
                self._container.mux(packet)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._failed(exc)
            return
        self._last_pts = pts
        self._last = item
        self.frames += 1

    def _open_stream(self, width: int, height: int) -> av.VideoStream:
        stream = self._container.add_stream(CODEC, rate=30)
        assert isinstance(stream, av.VideoStream)
        stream.width = even(width)
        stream.height = even(height)
        stream.pix_fmt = PIXEL_FORMAT
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.options = {"preset": "veryfast", "tune": "stillimage"}
        self._stream = stream
        return stream

    # closing

    def close(self, at: float | None = None) -> Closed:
        """Finish the file and say what it holds; safe to call twice.

        With ``at``, the last picture is shown until then, so the video
        lasts as long as the sharing did.
        """
        with self._ready:
            if self._closed is not None:
                return self._closed
            self._closing = True
            self._ready.notify()
        self._thread.join()
        if at is not None and self._last is not None:
            rgb, width, height, _ = self._last
            self._encode((rgb, width, height, at))
        self._finish()
        if self.frames == 0 or self.error is not None:
            # no picture came, or the encoder failed and the file is not a
            # whole video: an empty file, which the caller drops
            self.path.write_bytes(b"")
        sha256, size = file_sha256(self.path)
        self._closed = Closed(str(self.path), sha256, size)
        if self._on_close is not None:
            self._on_close(self._closed)
        return self._closed

    def _finish(self) -> None:
        """Flush the encoder and close the file, whatever happened before."""
        try:
            if self.error is None and self._stream is not None:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._failed(exc)
        try:
            self._container.close()  # also without a stream: its file is open
        except (av.FFmpegError, OSError, ValueError) as exc:
            if self._stream is not None:
                self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self.error = self.error or str(exc) or exc.__class__.__name__
        log.error("screen recording %s failed: %s", self.path, self.error)
