"""How reports write times, durations and addresses (spec 1.6)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from supportbox.xml.writer import E


def unix(moment: float) -> int:
    """Whole Unix seconds, rounded down.

    Rounding down keeps every session inside the second its timestamp
    names, which the polling rule of docs/reporting.md relies on.
    """
    return math.floor(moment)


def iso(moment: float) -> str:
    """``2024-12-03T15:26:05+00:00``: UTC, no fraction, no ``Z``."""
    return datetime.fromtimestamp(unix(moment), UTC).isoformat()


def time_element(tag: str, moment: float | None) -> E:
    """``<tag timestamp="unix">iso</tag>``, or an empty ``<tag></tag>``."""
    if moment is None:
        return E(tag, "")
    return E(tag, iso(moment), {"timestamp": unix(moment)})


def hms(seconds: float) -> str:
    """``HH:MM:SS``; hours grow past 99 rather than wrap."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def bit(flag: bool) -> int:
    return 1 if flag else 0
