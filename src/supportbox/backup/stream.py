"""Running a blocking archive writer in a thread that feeds a response.

The writer sees a write-only file; every 256 KiB it has written goes
through a small bounded queue to the event loop, so a slow client slows
the writer down instead of filling memory. When the client goes away the
writer is stopped at its next write and its database snapshot is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO

from supportbox.errors import ReaderGone
from supportbox.logs import log

CHUNK = 256 * 1024
DEPTH = 8

Item = bytes | BaseException | None


class _QueueSink(io.RawIOBase):
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Item],
        stop: threading.Event,
    ) -> None:
        super().__init__()
        self._loop, self._queue, self._stop = loop, queue, stop
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.put(bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush_all(self) -> None:
        if self._buffer:
            self.put(bytes(self._buffer))
            self._buffer.clear()

    def put(self, item: Item) -> None:
        if self._stop.is_set():
            raise ReaderGone
        future = asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop)
        while True:
            try:
                future.result(timeout=0.5)
                return
            except TimeoutError:
                if self._stop.is_set():
                    future.cancel()
                    raise ReaderGone from None


def _work(produce: Callable[[BinaryIO], None], sink: _QueueSink) -> None:
    try:
        produce(sink)  # type: ignore[arg-type]
        sink.flush_all()
        sink.put(None)
    except ReaderGone:
        log.info("backup stopped: the client went away")
    except Exception as exc:
        log.error("backup failed", exc_info=exc)
        with contextlib.suppress(ReaderGone, RuntimeError):
            sink.put(exc)


async def start_stream(produce: Callable[[BinaryIO], None]) -> AsyncIterator[bytes]:
    """Start ``produce(file)`` in a thread and return its bytes as they come.

    Waits for the first chunk, so that an error before any byte was made
    (the database is down) is raised here, while an answer can still be
    chosen; an error later ends the stream with that error.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=DEPTH)
    stop = threading.Event()
    sink = _QueueSink(loop, queue, stop)
    worker = threading.Thread(
        target=_work, args=(produce, sink), name="backup-writer", daemon=True
    )
    worker.start()

    try:
        first = await queue.get()
    except BaseException:
        stop.set()
        raise
    if isinstance(first, BaseException):
        raise first

    async def chunks() -> AsyncIterator[bytes]:
        item: Item = first
        try:
            while item is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
                item = await queue.get()
        finally:
            stop.set()

    return chunks()
