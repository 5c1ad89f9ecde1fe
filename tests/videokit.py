"""Known pictures for screen tests, and reading MP4 files back."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image

from supportbox.screen import codec

#: Four quarters of clearly different colours.
COLOURS = ((220, 30, 40), (30, 200, 60), (40, 60, 220), (240, 240, 240))


def quarters(width: int, height: int) -> Image.Image:
    """A picture of four coloured quarters, top-left to bottom-right."""
    image = Image.new("RGB", (width, height))
    half_w, half_h = width // 2, height // 2
    boxes = (
        (0, 0, half_w, half_h),
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    )
    for box, colour in zip(boxes, COLOURS, strict=True):
        image.paste(colour, box)
    return image


def probes(width: int, height: int) -> list[tuple[int, int]]:
    """One point well inside each quarter, in COLOURS order."""
    xs = (width // 4, 3 * width // 4)
    ys = (height // 4, 3 * height // 4)
    return [(x, y) for y in ys for x in xs]


def close_to(seen: tuple[int, ...], wanted: tuple[int, ...], slack: int = 24) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(seen, wanted, strict=True))


def key_parts(image: Image.Image, tile: int = 64) -> list[bytes]:
    """``image`` as the parts of one key update of PNG tiles."""
    width, height = image.size
    tiles = [
        codec.encode_tile(image.crop((x, y, x + w, y + h)), x, y)
        for y in range(0, height, tile)
        for x in range(0, width, tile)
        for w, h in [(min(tile, width - x), min(tile, height - y))]
    ]
    return codec.encode_update(tiles, width, height, key=True)


def decoded(path: Path) -> list[tuple[float, Image.Image]]:
    """Every picture of an MP4 file with its time in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        return [
            (float(frame.time or 0.0), frame.to_image())
            for frame in container.decode(stream)
        ]


def decoded_bytes(data: bytes, folder: Path) -> list[tuple[float, Image.Image]]:
    path = folder / "fetched.mp4"
    path.write_bytes(data)
    return decoded(path)
