"""The time window of a report (spec 5.2).

Exactly one anchor (``start_date``, ``start_time``, ``end_date`` or
``end_time``) plus ``duration``. A window is the half-open interval
``[begin, until)``: the anchor itself is included, the end is not.
``start_*`` windows match the session start and include sessions still in
progress; ``end_*`` windows match the end and only closed sessions.

An ``end_*`` window never reaches into the second that is still running:
its upper bound is at most the start of the current second. A second is
therefore reported only once it is over, so a poller that asks again from
the last end time it saw can never miss a session that ended later in that
same second (see docs/reporting.md, "Polling").
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supportbox.errors import ConfigError, InvalidInput

ANCHORS = ("start_date", "start_time", "end_date", "end_time")
WINDOW_PARAMS = (*ANCHORS, "duration")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+]?\d{1,12}")

Clock = Callable[[], float]


@dataclass(frozen=True)
class Window:
    """Sessions whose ``field`` time lies in ``[begin, until)``.

    ``field`` is ``"start"`` or ``"end"``; ``until`` is ``None`` for an
    open window ("duration=0" on a start anchor).
    """

    field: str
    begin: float
    until: float | None

    def contains(self, moment: float) -> bool:
        if moment < self.begin:
            return False
        return self.until is None or moment < self.until


def timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"report_timezone {name!r} is not a known time zone"
        ) from None


def parse_date(text: str, name: str = "date") -> date:
    """A ``YYYY-MM-DD`` parameter."""
    if not _DATE.fullmatch(text):
        raise InvalidInput(f"Invalid {name}: expected YYYY-MM-DD, got {text!r}.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"Invalid {name}: {text!r} is not a calendar date."
        ) from None


def parse_integer(text: str, name: str) -> int:
    """A non-negative whole number parameter."""
    if not _INTEGER.fullmatch(text.strip()):
        raise InvalidInput(
            f"Invalid {name}: expected a non-negative whole number, got {text!r}."
        )
    return int(text.strip())


def midnight(day: date, zone: ZoneInfo) -> float:
    """Unix time of 00:00 of ``day`` in ``zone``."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()


def has_window(params: Mapping[str, str]) -> bool:
    return any(params.get(name, "") != "" for name in ANCHORS)


def parse(
    params: Mapping[str, str],
    zone_name: str = "UTC",
    clock: Clock = time.time,
    allowed: tuple[str, ...] = ("start", "end"),
) -> Window:
    """The window the parameters describe, or :class:`InvalidInput`.

    ``start_*`` and ``end_*`` together conflict. A date and a time of the
    same kind (``start_date`` with ``start_time``) are accepted, and the
    time wins, as one real client sends both (spec 5.2).
    """
    given = {name: params[name] for name in ANCHORS if params.get(name, "") != ""}
    if not given:
        raise InvalidInput(
            "Missing time window: give one of start_date, start_time, end_date "
            "or end_time, with duration."
        )
    kinds = {name.split("_")[0] for name in given}
    if len(kinds) > 1:
        names = " and ".join(sorted(given))
        raise InvalidInput(
            f"Conflicting time window: {names} cannot be combined; give either "
            "a start_* or an end_* anchor."
        )
    kind = kinds.pop()
    if kind not in allowed:
        raise InvalidInput(f"This report does not accept {kind}_* parameters.")

    duration = parse_integer(params.get("duration", "") or "0", "duration")
    time_name = f"{kind}_time"
    if time_name in given:
        begin = float(parse_integer(given[time_name], time_name))
        until = begin + duration if duration else None
    else:
        date_name = f"{kind}_date"
        zone = timezone(zone_name)
        day = parse_date(given[date_name], date_name)
        begin = midnight(day, zone)
        try:
            last = day + timedelta(days=duration)
        except OverflowError:
            raise InvalidInput(
                f"Invalid duration: {duration} days is too long."
            ) from None
        until = midnight(last, zone) if duration else None

    if kind == "end":
        # An end window stops at the start of the running second (module doc).
        settled = float(math.floor(clock()))
        until = settled if until is None else min(until, settled)
    return Window(kind, begin, until)
