"""Writing a recording off the hot path.

The session's code calls :meth:`CastWriter.output` and friends; they take
the time, put the bytes on a queue and return. A thread of the writer
turns them into asciicast lines, writes them and hashes what it wrote.
The queue is bounded by the bytes it holds: when a slow disk lets it
fill up, new events are dropped (never the session stalled) and the gap
is written as a marker event once the disk catches up.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from supportbox.logs import log
from supportbox.recording import asciicast
from supportbox.recording.asciicast import Header, StreamDecoder

#: Bytes of events a recording may hold in memory before it drops some.
DEFAULT_BUFFER = 32 * 1024 * 1024


class Sink(Protocol):
    """Where the lines go: a binary file, or anything that writes like one."""

    def write(self, data: bytes, /) -> object: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Summary:
    """What a closed recording holds."""

    sha256: str
    size: int
    events: int
    dropped_bytes: int
    error: str | None = None


_Item = tuple[float, str, bytes] | None


class CastWriter:
    """One asciicast v2 recording, written by its own thread.

    The recording methods never block on the disk; :meth:`close` does: it
    returns once everything queued is written and the sink is closed.
    """

    def __init__(
        self,
        sink: Sink,
        header: Header,
        *,
        buffer: int = DEFAULT_BUFFER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._buffer = buffer
        self._clock = clock
        self._start = clock()
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued = 0
        self._dropped = 0
        self._noted_drops = 0
        self._closed = False
        self._hash = hashlib.sha256()
        self._size = 0
        self._events = 0
        self._error: str | None = None
        self._decoders = {
            asciicast.OUTPUT: StreamDecoder(),
            asciicast.INPUT: StreamDecoder(),
        }
        self._header = header
        self._thread = threading.Thread(
            target=self._run, name="recording-writer", daemon=True
        )
        self._thread.start()

    # the hot path

    def output(self, data: bytes) -> None:
        self._put(asciicast.OUTPUT, data)

    def input(self, data: bytes) -> None:
        self._put(asciicast.INPUT, data)

    def resize(self, width: int, height: int) -> None:
        self._put(asciicast.RESIZE, f"{width}x{height}".encode())

    def marker(self, label: str) -> None:
        self._put(asciicast.MARKER, label.encode())

    def _put(self, code: str, data: bytes) -> None:
        seconds = self._clock() - self._start
        with self._lock:
            if self._closed:
                return
            if self._queued + len(data) > self._buffer:
                self._dropped += len(data)
                return
            self._queued += len(data)
        self._queue.put((seconds, code, data))

    # the writer thread

    def _run(self) -> None:
        self._write(asciicast.encode_header(self._header))
        while True:
            item = self._queue.get()
            if item is None:
                break
            seconds, code, data = item
            with self._lock:
                self._queued -= len(data)
            self._note_gap(seconds)
            self._event(seconds, code, self._text(code, data))

        # the end: what the decoders still hold, and a gap at the very end
        seconds = self._clock() - self._start
        for code, decoder in self._decoders.items():
            self._event(seconds, code, decoder.flush())
        self._note_gap(seconds)

    def _note_gap(self, seconds: float) -> None:
        with self._lock:
            dropped = self._dropped
        if dropped > self._noted_drops:
            gap = f"recording gap: {dropped - self._noted_drops} bytes dropped"
            self._event(seconds, asciicast.MARKER, gap)
            self._noted_drops = dropped

    def _text(self, code: str, data: bytes) -> str:
        decoder = self._decoders.get(code)
        return decoder.decode(data) if decoder else data.decode("utf-8", "replace")

    def _event(self, seconds: float, code: str, text: str) -> None:
        if not text and code in self._decoders:
            return
        self._events += 1
        self._write(asciicast.encode_event(seconds, code, text))

    def _write(self, line: bytes) -> None:
        if self._error is not None:
            return
        try:
            self._sink.write(line)
        except OSError as exc:
            self._error = exc.strerror or exc.__class__.__name__
            log.error("recording write failed: %s", self._error)
            return
        self._hash.update(line)
        self._size += len(line)

    # closing

    def close(self) -> Summary:
        """Write what is queued, close the sink and say what was written."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(None)
        self._thread.join()
        try:
            self._sink.flush()
            self._sink.close()
        except OSError as exc:
            self._error = self._error or exc.strerror or exc.__class__.__name__
        return Summary(
            sha256=self._hash.hexdigest(),
            size=self._size,
            events=self._events,
            dropped_bytes=self._dropped,
            error=self._error,
        )
