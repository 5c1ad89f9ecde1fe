"""Binary frames: a 16-byte header, then the bytes of one channel.

The header is the channel number (4 bytes), the chunk number (4 bytes)
and 8 reserved bytes (zero), all big-endian. A channel is announced in a
JSON message (``shell_opened``, ``file_incoming``, ...) before any of its
frames.
"""

from __future__ import annotations

import struct

from supportbox.errors import InvalidInput

_HEADER = struct.Struct(">II8x")
HEADER_SIZE = _HEADER.size

#: The most data one binary frame carries; larger frames are refused.
MAX_CHUNK = 1024 * 1024


def encode(channel: int, chunk: int, data: bytes | memoryview) -> bytes:
    return b"".join((_HEADER.pack(channel, chunk & 0xFFFFFFFF), data))


def decode(frame: bytes) -> tuple[int, int, memoryview]:
    """``(channel, chunk, data)``; raises InvalidInput for a short frame.

    ``data`` is a view into ``frame``: a megabyte is not copied to skip
    16 bytes (hashing, writing and sending take views as they are).
    """
    if len(frame) < HEADER_SIZE:
        raise InvalidInput("a binary frame needs a 16-byte header")
    if len(frame) - HEADER_SIZE > MAX_CHUNK:
        raise InvalidInput(f"a binary frame carries at most {MAX_CHUNK} bytes")
    channel, chunk = _HEADER.unpack_from(frame)
    return channel, chunk, memoryview(frame)[HEADER_SIZE:]
