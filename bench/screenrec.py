"""How fast the screen recorder encodes, and what a minute of video costs.

Feeds a ScreenRecorder pictures of a desktop-like screen (flat colours,
a moving window, changing text lines), every picture different:

1. as fast as it takes them, for SECONDS: pictures encoded per second
   (the rest are replaced while waiting, never blocking the caller);
2. at FPS in real time, for SECONDS: pictures replaced, the file size per
   minute of video and the encoder's share of one core.

Usage: .venv/bin/python bench/screenrec.py [--size 1920x1080] [--fps 10]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from supportbox.recording.screen import ScreenRecorder


def desktop(width: int, height: int, step: int) -> bytes:
    image = Image.new("RGB", (width, height), (40, 70, 110))
    draw = ImageDraw.Draw(image)
    x = 100 + (step * 7) % (width // 2)
    draw.rectangle((x, 120, x + width // 3, 120 + height // 2), fill=(235, 235, 235))
    for line in range(12):
        text = f"line {line} of picture {step}"
        draw.text((x + 12, 140 + line * 18), text, fill=(20, 20, 20))
    return image.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))

    pictures = [desktop(width, height, step) for step in range(30)]
    with tempfile.TemporaryDirectory() as folder:
        flat_out = run(Path(folder) / "a.mp4", pictures, width, height, args, 0.0)
        real_time = run(Path(folder) / "b.mp4", pictures, width, height, args, args.fps)
    print(f"screen {width}x{height}")
    print(f"flat out: {flat_out.encoded:.1f} pictures encoded per second")
    minutes = real_time.wall / 60
    print(
        f"at {args.fps:g} fps: {real_time.replaced} of {real_time.offered} "
        f"replaced, {real_time.size / minutes / 1e6:.2f} MB per minute, "
        f"CPU {real_time.cpu * 100:.0f} % of one core"
    )


@dataclass
class Run:
    offered: int
    replaced: int
    encoded: float
    size: int
    wall: float
    cpu: float


def run(
    path: Path,
    pictures: list[bytes],
    width: int,
    height: int,
    args: argparse.Namespace,
    fps: float,
) -> Run:
    recorder = ScreenRecorder(path)
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.monotonic()
    offered = 0
    while (now := time.monotonic() - began) < args.seconds:
        recorder.frame(pictures[offered % len(pictures)], width, height, now)
        offered += 1
        pause = offered / fps - (time.monotonic() - began) if fps else 0.001
        time.sleep(max(pause, 0.001))
    closed = recorder.close(time.monotonic() - began)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(
        offered, recorder.dropped, recorder.frames / wall, closed.size, wall, cpu / wall
    )


if __name__ == "__main__":
    main()
