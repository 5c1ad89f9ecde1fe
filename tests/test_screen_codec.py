"""The screen update format: parts, tiles, and the framebuffer they draw."""

from __future__ import annotations

import os
import struct

import pytest
from PIL import Image

from supportbox.errors import InvalidInput
from supportbox.screen import codec
from supportbox.screen.codec import Framebuffer, Tile
from supportbox.streams.frames import MAX_CHUNK


def solid(w: int, h: int, color: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (w, h), color)


def test_an_update_round_trips_through_one_part() -> None:
    tiles = [
        codec.encode_tile(solid(64, 64, (255, 0, 0)), 0, 0),
        codec.encode_tile(solid(36, 64, (0, 0, 255)), 64, 0, codec.JPEG),
    ]

    parts = codec.encode_update(tiles, 100, 64, key=True)

    assert len(parts) == 1
    part = codec.decode_part(parts[0])
    assert (part.width, part.height) == (100, 64)
    assert part.key and part.ends_update
    assert part.tiles == tiles
    assert parts[0][:7] == struct.pack(">BHHH", 3, 100, 64, 2)


def test_the_framebuffer_draws_tiles_where_they_belong() -> None:
    fb = Framebuffer()
    key = [
        codec.encode_tile(solid(64, 32, (255, 0, 0)), 0, 0),
        codec.encode_tile(solid(64, 32, (0, 255, 0)), 0, 32),
    ]
    change = [codec.encode_tile(solid(16, 16, (0, 0, 255)), 8, 40)]

    assert fb.apply(codec.encode_update(key, 64, 64, key=True)[0])
    assert fb.apply(codec.encode_update(change, 64, 64, key=False)[0])

    assert fb.size == (64, 64)
    image = Image.frombytes("RGB", fb.size, fb.rgb())
    assert image.getpixel((1, 1)) == (255, 0, 0)
    assert image.getpixel((1, 60)) == (0, 255, 0)
    assert image.getpixel((10, 45)) == (0, 0, 255)
    assert fb.updates == 2


def test_a_large_update_is_split_and_only_the_last_part_ends_it() -> None:
    noise = Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3))
    tiles = [codec.encode_tile(noise, 0, 256 * i) for i in range(8)]

    parts = codec.encode_update(tiles, 256, 2048, key=True)

    assert len(parts) > 1
    assert all(len(p) <= MAX_CHUNK for p in parts)
    decoded = [codec.decode_part(p) for p in parts]
    assert [d.ends_update for d in decoded] == [False] * (len(parts) - 1) + [True]
    assert all(d.key for d in decoded)
    assert sum(len(d.tiles) for d in decoded) == 8
    fb = Framebuffer()
    assert [fb.apply(p) for p in parts][-1] is True
    assert fb.image().crop((0, 1792, 256, 2048)).tobytes() == noise.tobytes()


def test_a_late_viewer_waits_for_a_key_update() -> None:
    fb = Framebuffer()
    change = codec.encode_tile(solid(8, 8, (9, 9, 9)), 0, 0)
    full = codec.encode_tile(solid(32, 32, (1, 2, 3)), 0, 0)

    assert not fb.apply(codec.encode_update([change], 32, 32, key=False)[0])
    assert not fb.ready
    assert fb.apply(codec.encode_update([full], 32, 32, key=True)[0])
    assert fb.ready and fb.image().getpixel((0, 0)) == (1, 2, 3)


def test_a_key_update_changes_the_screen_size() -> None:
    fb = Framebuffer()
    fb.apply(
        codec.encode_update(
            [codec.encode_tile(solid(8, 8, (0, 0, 0)), 0, 0)], 8, 8, key=True
        )[0]
    )
    bigger = codec.encode_tile(solid(16, 4, (7, 7, 7)), 0, 0)

    fb.apply(codec.encode_update([bigger], 16, 4, key=True)[0])

    assert fb.size == (16, 4)
    with pytest.raises(InvalidInput, match="screen size"):
        fb.apply(codec.encode_update([], 8, 8, key=False)[0])


def test_an_empty_update_is_one_part_that_ends_it() -> None:
    (part,) = codec.encode_update([], 10, 10, key=False)
    assert codec.decode_part(part).ends_update
    assert codec.decode_part(part).tiles == []


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (b"\x01\x00", "header"),
        (struct.pack(">BHHH", 1, 10, 10, 1), "tile header"),
        (
            struct.pack(">BHHH", 1, 10, 10, 1)
            + struct.pack(">HHHHBI", 0, 0, 5, 5, 1, 9),
            "inside a tile",
        ),
        (
            struct.pack(">BHHH", 1, 10, 10, 1)
            + struct.pack(">HHHHBI", 8, 0, 5, 5, 1, 0),
            "outside",
        ),
        (
            struct.pack(">BHHH", 1, 10, 10, 1)
            + struct.pack(">HHHHBI", 0, 0, 5, 5, 7, 0),
            "encoding",
        ),
        (struct.pack(">BHHH", 1, 10, 10, 0) + b"x", "after its last tile"),
        (struct.pack(">BHHH", 1, 65535, 65535, 0), "at most"),
    ],
)
def test_malformed_parts_are_refused_clearly(part: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        codec.decode_part(part)


def test_a_tile_that_is_not_an_image_is_refused() -> None:
    part = codec.encode_update([Tile(0, 0, 4, 4, codec.PNG, b"nope")], 4, 4, key=True)
    with pytest.raises(InvalidInput, match="not a readable image"):
        Framebuffer().apply(part[0])


def test_a_tile_whose_image_has_another_size_is_refused() -> None:
    tile = codec.encode_tile(solid(4, 4, (0, 0, 0)), 0, 0)
    wrong = Tile(0, 0, 8, 8, tile.encoding, tile.data)
    with pytest.raises(InvalidInput, match="does not match its size"):
        Framebuffer().apply(codec.encode_update([wrong], 8, 8, key=True)[0])
