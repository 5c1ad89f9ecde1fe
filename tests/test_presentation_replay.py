"""The replay a late attendee starts from, against the attendee's buffer."""

from __future__ import annotations

from typing import Any, cast

from supportbox.presentation.live import (
    ATTENDEE_BUFFER,
    REPLAY_LIMIT,
    Attendee,
    LivePresentation,
)
from supportbox.screen import codec


def big_key_update(size: int) -> list[bytes]:
    """A key update of about ``size`` bytes (tile bytes are not decoded here)."""
    tile = codec.Tile(0, 0, 8, 8, codec.PNG, b"\x00" * (900 * 1024))
    return codec.encode_update([tile] * (size // len(tile.data)), 64, 64, key=True)


def test_a_late_attendee_gets_a_replay_near_the_limit_whole() -> None:
    presentation = LivePresentation(
        "lsid", cast(Any, None), 1, "1234567", "0" * 32, None
    )
    parts = big_key_update(REPLAY_LIMIT - 1024 * 1024)
    for part in parts:
        presentation.part(part)
    assert presentation.replay_size > 8 * 1024 * 1024  # the old buffer's size

    late = Attendee(2, "Late")
    presentation.admit(late)
    # the next update still fits behind the replay
    for part in big_key_update(2 * 1024 * 1024):
        presentation.part(part)

    got = [late.queue.get_nowait() for _ in range(late.queue.qsize())]
    assert got[: len(parts)] == parts
    assert not late.waiting_key and late.queued <= ATTENDEE_BUFFER
