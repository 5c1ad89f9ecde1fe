"""ScreenRecorder: frames of a known picture in, a standard MP4 out."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import cast

import pytest
from PIL import Image

from supportbox.recording import screen
from supportbox.recording.feed import ScreenFeed
from supportbox.recording.screen import Closed, ScreenRecorder
from videokit import COLOURS, close_to, decoded, key_parts, probes, quarters


def test_frames_of_a_picture_decode_back_to_that_picture(tmp_path: Path) -> None:
    path = tmp_path / "screen.mp4"
    image = quarters(160, 120)
    recorder = ScreenRecorder(path)
    for step in range(3):
        recorder.frame(image.tobytes(), 160, 120, step * 0.5)

    closed = recorder.close(at=2.0)

    assert closed.path == str(path)
    assert closed.size == path.stat().st_size > 0
    assert closed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    pictures = decoded(path)
    assert pictures[0][1].size == (160, 120)
    for _at, picture in pictures:
        for point, colour in zip(probes(160, 120), COLOURS, strict=True):
            assert close_to(picture.getpixel(point), colour), (point, colour)
    assert pictures[-1][0] == pytest.approx(2.0, abs=0.01)


def test_frame_times_follow_at_not_a_fixed_rate(tmp_path: Path) -> None:
    path = tmp_path / "vfr.mp4"
    recorder = ScreenRecorder(path, backlog=100)
    image = quarters(64, 48)
    times = [0.0, 0.04, 1.5, 1.52, 7.25]
    for at in times:
        recorder.frame(image.tobytes(), 64, 48, at)

    recorder.close()

    assert [round(t, 3) for t, _ in decoded(path)] == times


def test_odd_sizes_are_padded_to_even_with_the_picture_intact(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    image = quarters(161, 119)
    recorder = ScreenRecorder(path)
    recorder.frame(image.tobytes(), 161, 119, 0.0)
    recorder.close()

    [(_at, picture)] = decoded(path)

    assert picture.size == (162, 120)
    assert close_to(picture.getpixel((150, 110)), (240, 240, 240))


def test_a_later_screen_size_is_scaled_to_the_first(tmp_path: Path) -> None:
    path = tmp_path / "resized.mp4"
    recorder = ScreenRecorder(path, backlog=10)
    recorder.frame(quarters(100, 80).tobytes(), 100, 80, 0.0)
    recorder.frame(quarters(200, 160).tobytes(), 200, 160, 0.1)
    recorder.close()

    pictures = decoded(path)

    assert [p.size for _t, p in pictures] == [(100, 80), (100, 80)]
    assert close_to(pictures[1][1].getpixel((75, 60)), (240, 240, 240))


def test_a_busy_encoder_coalesces_frames_instead_of_blocking(tmp_path: Path) -> None:
    release = threading.Event()
    recorder = ScreenRecorder(tmp_path / "busy.mp4", backlog=2)
    original = recorder._encode

    def slow(item: tuple[bytes, int, int, float]) -> None:
        release.wait(10)
        original(item)

    recorder._encode = slow  # type: ignore[method-assign]
    image = quarters(32, 32).tobytes()
    for step in range(50):
        recorder.frame(image, 32, 32, step / 10)  # returns at once

    release.set()
    recorder.close()

    assert recorder.dropped >= 47
    assert recorder.frames + recorder.dropped == 50
    assert decoded(tmp_path / "busy.mp4")[-1][0] == pytest.approx(4.9)


def test_a_recording_without_frames_is_an_empty_file(tmp_path: Path) -> None:
    seen: list[Closed] = []
    recorder = ScreenRecorder(tmp_path / "none.mp4", on_close=seen.append)

    closed = recorder.close()

    assert closed.size == 0 and seen == [closed]
    assert recorder.close() is closed


def open_files() -> set[str]:
    """The files this process holds open."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
    return found


def test_an_encoder_error_is_logged_and_leaves_no_video(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.mp4"
    works = screen.picture
    calls = []

    def fails_after_one(
        rgb: bytes, width: int, height: int, size: tuple[int, int]
    ) -> Image.Image:
        calls.append(width)
        if len(calls) > 1:
            raise ValueError("forced encoder failure")
        return works(rgb, width, height, size)

    monkeypatch.setattr(screen, "picture", fails_after_one)
    recorder = ScreenRecorder(path, backlog=10)
    image = quarters(64, 48)
    with caplog.at_level(logging.ERROR):
        for at in (0.0, 0.5, 1.0):
            recorder.frame(image.tobytes(), 64, 48, at)
        closed = recorder.close(at=2.0)

    assert recorder.error == "forced encoder failure"
    assert recorder.frames == 1 and len(calls) == 2  # nothing after the error
    assert closed.size == 0 and path.read_bytes() == b""
    assert "forced encoder failure" in caplog.text
    assert str(path) not in open_files()


def test_a_frame_that_is_not_rgb_of_its_size_is_refused(tmp_path: Path) -> None:
    recorder = ScreenRecorder(tmp_path / "bad.mp4")
    with pytest.raises(ValueError, match="width x height RGB"):
        recorder.frame(b"\0" * 10, 4, 4, 0.0)
    recorder.close()


def test_a_feed_turns_screen_parts_into_recorded_pictures(tmp_path: Path) -> None:
    path = tmp_path / "fed.mp4"
    image = quarters(200, 150)
    feed = ScreenFeed(ScreenRecorder(path, backlog=10))
    for part in key_parts(image):
        feed.part(part)

    closed = feed.close()

    assert closed.size > 0
    [(_t, first), *_rest] = decoded(path)
    assert close_to(first.getpixel((50, 37)), (220, 30, 40))
    assert close_to(first.getpixel((150, 112)), (240, 240, 240))


class Flaky:
    """A recorder whose first frame fails (a stand-in for a bug)."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, int]] = []
        self.calls = 0

    def frame(self, rgb: bytes, width: int, height: int, at: float) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("forced failure")
        self.frames.append((width, height))

    def close(self, at: float | None = None) -> Closed:
        return Closed("", "", 0)


def test_a_feed_goes_on_after_an_unexpected_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Flaky()
    feed = ScreenFeed(cast(ScreenRecorder, recorder))
    with caplog.at_level(logging.ERROR):
        for image in (quarters(40, 30), quarters(50, 30)):
            for part in key_parts(image):
                feed.part(part)
        feed.close()

    assert recorder.frames == [(50, 30)]
    assert "a part could not be recorded" in caplog.text
    assert "forced failure" in caplog.text
