"""The asciicast v2 writer: format, hashing, and staying off the hot path."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time

from supportbox.recording import asciicast
from supportbox.recording.asciicast import Header
from supportbox.recording.writer import CastWriter


class SlowFile(io.BytesIO):
    """A file whose every write takes ``delay`` seconds, like a sick disk."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.contents = b""

    def write(self, data: bytes, /) -> int:  # type: ignore[override]
        time.sleep(self.delay)
        return super().write(data)

    def close(self) -> None:
        self.contents = self.getvalue()
        super().close()


class GatedFile(io.BytesIO):
    """A file that blocks every write until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.contents = b""

    def write(self, data: bytes, /) -> int:  # type: ignore[override]
        self.gate.wait(10)
        return super().write(data)

    def close(self) -> None:
        self.contents = self.getvalue()
        super().close()


HEADER = Header(width=100, height=30, timestamp=1700000000, title="t", env={})


def test_a_recording_is_asciicast_v2_with_relative_times_and_its_hash() -> None:
    sink = SlowFile(0)
    clock = iter([10.0, 10.5, 11.25, 12.0, 13.0, 13.0, 13.0])
    writer = CastWriter(sink, HEADER, clock=lambda: next(clock))

    writer.output(b"hello\r\n")
    writer.input(b"ls\r")
    writer.resize(120, 40)
    summary = writer.close()

    lines = sink.contents.decode().splitlines()
    header = json.loads(lines[0])
    assert header == {
        "version": 2,
        "width": 100,
        "height": 30,
        "timestamp": 1700000000,
        "title": "t",
    }
    assert [json.loads(line) for line in lines[1:]] == [
        [0.5, "o", "hello\r\n"],
        [1.25, "i", "ls\r"],
        [2.0, "r", "120x40"],
    ]
    assert summary.sha256 == hashlib.sha256(sink.contents).hexdigest()
    assert summary.size == len(sink.contents)
    assert summary.events == 3
    assert summary.dropped_bytes == 0


def test_characters_split_across_chunks_are_recorded_whole() -> None:
    sink = SlowFile(0)
    writer = CastWriter(sink, HEADER)
    snowman = "☃".encode()

    writer.output(b"a" + snowman[:1])
    writer.output(snowman[1:] + b"b")
    writer.close()

    cast = asciicast.parse(sink.contents.splitlines())
    assert cast.text() == "a☃b"


def test_a_slow_disk_does_not_slow_the_session_and_loses_nothing() -> None:
    sink = SlowFile(0.005)
    writer = CastWriter(sink, HEADER)

    started = time.perf_counter()
    for n in range(200):
        writer.output(f"line {n}\r\n".encode())
    hot_path = time.perf_counter() - started
    summary = writer.close()

    # 200 writes at 5 ms each take a second; the session spent far less.
    assert hot_path < 0.1
    cast = asciicast.parse(sink.contents.splitlines())
    assert cast.text() == "".join(f"line {n}\r\n" for n in range(200))
    assert summary.dropped_bytes == 0


def test_a_full_buffer_drops_events_and_marks_the_gap_instead_of_blocking() -> None:
    sink = GatedFile()
    writer = CastWriter(sink, HEADER, buffer=100)

    started = time.perf_counter()
    for _ in range(50):
        writer.output(b"x" * 10)
    hot_path = time.perf_counter() - started
    sink.gate.set()
    summary = writer.close()

    assert hot_path < 0.5
    assert summary.dropped_bytes == 400
    cast = asciicast.parse(sink.contents.splitlines())
    markers = [data for _t, code, data in cast.events if code == "m"]
    assert markers == ["recording gap: 400 bytes dropped"]
    assert cast.text() == "x" * 100
    assert summary.sha256 == hashlib.sha256(sink.contents).hexdigest()


def test_a_failing_disk_is_reported_in_the_summary_not_raised() -> None:
    class BrokenFile(SlowFile):
        def write(self, data: bytes, /) -> int:
            raise OSError(28, "No space left on device")

    writer = CastWriter(BrokenFile(0), HEADER)
    writer.output(b"lost")
    summary = writer.close()

    assert summary.error == "No space left on device"
    assert summary.size == 0
