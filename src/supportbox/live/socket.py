"""uvicorn's WebSocket protocol with a write buffer sized for file data.

asyncio's default high-water mark is 64 KiB: once a 1 MiB binary frame
(shell or file data, docs/protocol.md) is handed to a socket, the next
send waits until the buffer is nearly empty, and while it waits the
relay reads nothing from the other side. A buffer of a few frames keeps
both sockets busy; the receive loop still waits when the peer reads
slower than it is sent to (back-pressure), so memory stays bounded.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.websockets.websockets_sansio_impl import (
    WebSocketsSansIOProtocol,
)

#: Bytes queued for one client before a send waits for it to read.
WRITE_HIGH = 4 * 1024 * 1024
WRITE_LOW = 1024 * 1024


class LiveSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if isinstance(transport, asyncio.WriteTransport):
            transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
