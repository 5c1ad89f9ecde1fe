"""Screen updates on the wire: parts of tiles, and a framebuffer.

One binary frame of a "screen" channel carries one *part* (big-endian)::

    header  >BHHH    flags, screen width, screen height, tile count
    tile    >HHHHBI  x, y, w, h, encoding, length, then ``length`` bytes

Flag bit 0 marks the part that ends an update, bit 1 a key update (every
tile of the screen follows). Each tile is a PNG or JPEG file. The format
is fixed in docs/protocol.md ("Screen sharing and remote control
(version 1.2)").
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image

from supportbox.errors import InvalidInput
from supportbox.streams.frames import MAX_CHUNK

_HEADER = struct.Struct(">BHHH")
_TILE = struct.Struct(">HHHHBI")

END = 0x01
KEY = 0x02

PNG = 1
JPEG = 2
MIME = {PNG: "image/png", JPEG: "image/jpeg"}

#: The largest screen a framebuffer takes (an 8K display).
MAX_PIXELS = 7680 * 4320


@dataclass(frozen=True, slots=True)
class Tile:
    x: int
    y: int
    w: int
    h: int
    encoding: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Part:
    flags: int
    width: int
    height: int
    tiles: list[Tile]

    @property
    def ends_update(self) -> bool:
        return bool(self.flags & END)

    @property
    def key(self) -> bool:
        return bool(self.flags & KEY)


def encode_tile(
    image: Image.Image, x: int, y: int, encoding: int = PNG, quality: int = 75
) -> Tile:
    """One tile holding ``image``, placed at ``(x, y)``."""
    out = io.BytesIO()
    if encoding == PNG:
        image.save(out, "PNG", compress_level=1)
    elif encoding == JPEG:
        image.convert("RGB").save(out, "JPEG", quality=quality)
    else:
        raise InvalidInput(f"unknown tile encoding {encoding}")
    w, h = image.size
    return Tile(x, y, w, h, encoding, out.getvalue())


def encode_update(tiles: list[Tile], width: int, height: int, key: bool) -> list[bytes]:
    """The parts of one update, each small enough for one binary frame.

    An update without tiles is one empty part (it still ends an update).
    """
    limit = MAX_CHUNK - _HEADER.size
    flags = KEY if key else 0
    groups: list[list[Tile]] = [[]]
    used = 0
    for tile in tiles:
        size = _TILE.size + len(tile.data)
        if size > limit:
            raise InvalidInput(f"a tile of {size} bytes does not fit in a part")
        if used + size > limit:
            groups.append([])
            used = 0
        groups[-1].append(tile)
        used += size
    parts = []
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        parts.append(_pack(flags | (END if last else 0), width, height, group))
    return parts


def _pack(flags: int, width: int, height: int, tiles: list[Tile]) -> bytes:
    chunks = [_HEADER.pack(flags, width, height, len(tiles))]
    for t in tiles:
        chunks.append(_TILE.pack(t.x, t.y, t.w, t.h, t.encoding, len(t.data)))
        chunks.append(t.data)
    return b"".join(chunks)


def decode_part(part: bytes) -> Part:
    """Parse one part; raises InvalidInput when it is malformed."""
    if len(part) < _HEADER.size:
        raise InvalidInput("a screen part needs a 7-byte header")
    flags, width, height, count = _HEADER.unpack_from(part)
    if width * height > MAX_PIXELS:
        raise InvalidInput(f"a screen has at most {MAX_PIXELS} pixels")
    offset = _HEADER.size
    tiles = []
    for _ in range(count):
        if len(part) < offset + _TILE.size:
            raise InvalidInput("a screen part ends inside a tile header")
        x, y, w, h, encoding, length = _TILE.unpack_from(part, offset)
        offset += _TILE.size
        if len(part) < offset + length:
            raise InvalidInput("a screen part ends inside a tile")
        if encoding not in MIME:
            raise InvalidInput(f"unknown tile encoding {encoding}")
        if w == 0 or h == 0 or x + w > width or y + h > height:
            raise InvalidInput("a tile lies outside the screen")
        tiles.append(Tile(x, y, w, h, encoding, part[offset : offset + length]))
        offset += length
    if offset != len(part):
        raise InvalidInput("a screen part has bytes after its last tile")
    return Part(flags, width, height, tiles)


class Framebuffer:
    """The picture a stream of parts draws, as RGB.

    Parts are ignored until the first key update starts (a viewer that
    joins late waits for one); a later key update may change the size.
    """

    def __init__(self) -> None:
        self._image = Image.new("RGB", (0, 0))
        self._ready = False
        self._between = True
        self.updates = 0

    @property
    def size(self) -> tuple[int, int]:
        return self._image.size

    @property
    def ready(self) -> bool:
        return self._ready

    def apply(self, part: bytes | memoryview | Part) -> bool:
        """Paste one part; True when it completed an update."""
        if not isinstance(part, Part):
            part = decode_part(bytes(part))
        starts = self._between
        self._between = part.ends_update
        if not self._ready:
            if not (starts and part.key):
                return False
            self._ready = True
        if part.key and starts and (part.width, part.height) != self.size:
            self._image = Image.new("RGB", (part.width, part.height))
        elif (part.width, part.height) != self.size:
            raise InvalidInput("a screen part does not match the screen size")
        for tile in part.tiles:
            self._image.paste(_open(tile), (tile.x, tile.y))
        if part.ends_update:
            self.updates += 1
        return part.ends_update

    def rgb(self) -> bytes:
        return self._image.tobytes()

    def image(self) -> Image.Image:
        """A copy of the current picture."""
        return self._image.copy()

    def png(self) -> bytes:
        out = io.BytesIO()
        self._image.save(out, "PNG")
        return out.getvalue()


#: The only file format each tile encoding may hold.
_FORMATS = {PNG: ["PNG"], JPEG: ["JPEG"]}


def _open(tile: Tile) -> Image.Image:
    """The tile's picture; its size is checked before any pixel is decoded,
    so a small file that claims a huge picture costs nothing."""
    try:
        image = Image.open(io.BytesIO(tile.data), formats=_FORMATS[tile.encoding])
        if image.size != (tile.w, tile.h):
            raise InvalidInput("a screen tile's image does not match its size")
        image.load()
        return image.convert("RGB")
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError) as exc:
        raise InvalidInput("a screen tile is not a readable image") from exc
