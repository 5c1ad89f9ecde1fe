"""Grabbing the customer's screen and finding the tiles that changed.

Capture goes through ``mss`` (X11 on Linux, and the other platforms it
supports). Each capture is cut into square tiles and compared with the
previous one; only changed tiles are encoded, as PNG, or as JPEG when
that is much smaller (photographs, video).
"""

from __future__ import annotations

import mss
from PIL import Image, ImageChops

from supportbox.screen import codec
from supportbox.screen.codec import Tile

TILE = 64

#: PNG bytes per pixel above which a tile is tried as JPEG.
_PHOTO = 1.5


class Capture:
    """The screen of one display; use it from one thread only."""

    def __init__(self, display: str | None = None) -> None:
        self._mss = mss.MSS(display=display) if display else mss.MSS()

    def grab(self) -> Image.Image:
        shot = self._mss.grab(self._mss.monitors[0])
        return Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")

    def close(self) -> None:
        self._mss.close()


class Differ:
    """Changed tiles between successive pictures."""

    def __init__(self, tile: int = TILE, quality: int = 70) -> None:
        self.tile = tile
        self.quality = quality
        self.previous: Image.Image | None = None

    def reset(self) -> None:
        """The next picture is sent whole (a key update)."""
        self.previous = None

    def changes(self, image: Image.Image) -> tuple[list[Tile], bool]:
        """``(tiles, key)``: what to send so a viewer sees ``image``."""
        previous, self.previous = self.previous, image
        diff = None
        if previous is not None and previous.size == image.size:
            diff = ImageChops.difference(previous, image)
        tiles = []
        width, height = image.size
        for y in range(0, height, self.tile):
            for x in range(0, width, self.tile):
                box = (x, y, min(x + self.tile, width), min(y + self.tile, height))
                if diff is not None and diff.crop(box).getbbox() is None:
                    continue
                tiles.append(self._encode(image.crop(box), x, y))
        return tiles, diff is None

    def _encode(self, piece: Image.Image, x: int, y: int) -> Tile:
        tile = codec.encode_tile(piece, x, y, codec.PNG)
        if len(tile.data) > _PHOTO * tile.w * tile.h:
            jpeg = codec.encode_tile(piece, x, y, codec.JPEG, self.quality)
            if len(jpeg.data) < len(tile.data):
                return jpeg
        return tile
