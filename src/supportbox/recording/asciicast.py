"""The asciicast v2 format as supportbox writes it (docs/recording-format.md).

A file is one JSON header line followed by one JSON array per event,
``[seconds since start, code, data]``. Codes: ``o`` output, ``i`` input,
``r`` resize (data ``"COLSxROWS"``) and ``m`` marker (our notes, such as
a gap when events had to be dropped).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

VERSION = 2

#: The version of our conventions on top of asciicast v2.
CONVENTIONS = 1

OUTPUT = "o"
INPUT = "i"
RESIZE = "r"
MARKER = "m"

CODES = frozenset({OUTPUT, INPUT, RESIZE, MARKER})


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    timestamp: int
    title: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        header: dict[str, Any] = {
            "version": VERSION,
            "width": self.width,
            "height": self.height,
            "timestamp": self.timestamp,
        }
        if self.title:
            header["title"] = self.title
        if self.env:
            header["env"] = dict(self.env)
        return header


def encode_header(header: Header) -> bytes:
    return _line(header.as_dict())


def encode_event(seconds: float, code: str, data: str) -> bytes:
    return _line([round(seconds, 6), code, data])


def _line(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text.encode() + b"\n"


class StreamDecoder:
    """Bytes to text for one stream, keeping characters split across chunks.

    Bytes that are not UTF-8 become U+FFFD, as a terminal would show them.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def decode(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)


@dataclass
class Cast:
    """A parsed recording: its header and events."""

    header: dict[str, Any]
    events: list[tuple[float, str, str]]

    def text(self, code: str = OUTPUT) -> str:
        """Everything of one kind, joined: what the terminal printed, say."""
        return "".join(data for _t, c, data in self.events if c == code)


def parse(lines: Iterable[str | bytes]) -> Cast:
    """Read a recording; raises ValueError when it is not asciicast v2."""
    iterator = iter(lines)
    try:
        header = json.loads(next(iterator))
    except StopIteration:
        raise ValueError("recording is empty") from None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        raise ValueError("recording is not asciicast version 2")
    events: list[tuple[float, str, str]] = []
    for line in iterator:
        if not line.strip():
            continue
        seconds, code, data = json.loads(line)
        if code not in CODES:
            raise ValueError(f"unknown event code {code!r}")
        events.append((float(seconds), str(code), str(data)))
    return Cast(header, events)
