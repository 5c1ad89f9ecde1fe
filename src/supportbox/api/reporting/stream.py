"""Running a report: its database session, its worker thread, its response.

A report's body is a plain iterator of text chunks (one per batch of
sessions). :class:`ReportResponse` advances it in a worker thread, one
chunk at a time, so the event loop never waits on the database, and stops
it as soon as the client goes away: the iterator is closed and the
database session released before the next batch is read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from supportbox.logs import log

_END = object()

#: Headers of every XML answer, as the appliance sends them (spec 1.3).
XML_HEADERS = {
    "Cache-Control": (
        "must-revalidate, no-cache, no-store, post-check=0, pre-check=0, private"
    ),
    "Connection": "close",
}


def _advance(chunks: Iterator[str | bytes]) -> object:
    return next(chunks, _END)


def _close(chunks: Iterator[str | bytes], db: Session) -> None:
    try:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    finally:
        db.close()


async def drive(
    name: str, chunks: Iterator[str | bytes], db: Session
) -> AsyncIterator[bytes]:
    """The chunks of a report as bytes; closes ``db`` however it ends."""
    sent = 0
    finished = False
    try:
        while True:
            try:
                chunk = await anyio.to_thread.run_sync(_advance, chunks)
            except Exception:
                # Too late for an <error> document: the head is sent. The
                # client sees a truncated document; the log has the cause.
                log.exception("report %s failed after %d chunks", name, sent)
                finished = True
                return
            if chunk is _END:
                finished = True
                return
            assert isinstance(chunk, str | bytes)
            sent += 1
            yield chunk.encode() if isinstance(chunk, str) else chunk
    finally:
        if not finished:
            log.info("report %s stopped: the client went away", name)
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_close, chunks, db)


class ReportResponse(StreamingResponse):
    """A streamed report that treats a vanished client as routine."""

    def __init__(
        self,
        name: str,
        body: AsyncIterator[bytes],
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(body, media_type=media_type, headers=headers)
        self.name = name
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except (ClientDisconnect, OSError):
            pass  # drive() has logged it and released the database
        finally:
            aclose = getattr(self._body, "aclose", None)
            if aclose is not None:
                await aclose()
