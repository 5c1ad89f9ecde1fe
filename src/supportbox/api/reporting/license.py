"""LicenseUsage (spec 5.10): peak representatives in sessions per interval.

A representative uses a license while connected to at least one session;
two sessions at once still use one. ``peak_license_count`` is the most
representatives connected at the same moment within the interval,
``license_count`` the number of enabled users allowed to give support.
Intervals follow the calendar (hour, day, month) of ``report_timezone``
and every interval of the window is listed, including idle ones.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, or_, select

from supportbox.api.reporting import query
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import time_element
from supportbox.api.reporting.window import timezone
from supportbox.errors import InvalidInput
from supportbox.storage.models import User
from supportbox.xml.writer import E, close_root, open_root, render

GROUPS = ("hour", "day", "month")
MAX_INTERVALS = 100_000


def license_usage(ctx: ReportContext) -> Stream:
    group_by = ctx.param("group_by") or "day"
    if group_by not in GROUPS:
        raise InvalidInput(
            f"Invalid group_by: {group_by[:40]!r}; expected hour, day or month."
        )
    window = ctx.window(allowed=("start",))
    until = window.until if window.until is not None else ctx.now
    edges = boundaries(window.begin, until, group_by, ctx.settings.report_timezone)
    if len(edges) > MAX_INTERVALS:
        raise InvalidInput(
            "The window holds too many intervals; use a larger group_by."
        )
    return Stream(_usage(ctx, window.begin, until, group_by, edges))


def boundaries(
    begin: float, until: float, group_by: str, zone_name: str
) -> list[float]:
    """Interval starts from the one holding ``begin``, then ``until`` last."""
    zone = timezone(zone_name)
    moment = datetime.fromtimestamp(begin, zone)
    if group_by == "hour":
        moment = moment.replace(minute=0, second=0, microsecond=0)
    elif group_by == "day":
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        moment = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    edges: list[float] = []
    while moment.timestamp() < until and len(edges) <= MAX_INTERVALS:
        edges.append(moment.timestamp())
        moment = _next(moment, group_by, zone)
    return [*edges, until]


def _next(moment: datetime, group_by: str, zone: Any) -> datetime:
    if group_by == "hour":
        # Step in UTC so that DST changes neither skip nor repeat an hour.
        return datetime.fromtimestamp(moment.timestamp() + 3600, zone)
    if group_by == "day":
        following = moment.replace(tzinfo=None).toordinal() + 1
        day = datetime.fromordinal(following)
        return day.replace(tzinfo=zone)
    year, month = (
        (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    )
    return moment.replace(year=year, month=month)


def _intervals(ctx: ReportContext, begin: float, until: float) -> Iterator[Any]:
    P, S = query.P, query.S
    finish = func.coalesce(P.left_at, S.end_time)
    rows = (
        select(P.user_id, P.joined_at, finish.label("left_at"))
        .join(query.SESSIONS, S.id == P.session_id)
        .where(P.kind == "representative", P.joined_at < until)
        .where(or_(finish.is_(None), finish > begin))
        .order_by(P.joined_at)
    )
    return iter(ctx.db.execute(rows.execution_options(yield_per=1000)))


def peaks(rows: Iterator[Any], edges: list[float], now: float) -> Iterator[int]:
    """The peak count of distinct users for each interval between ``edges``."""
    active: Counter[int] = Counter()
    ends: list[tuple[float, int]] = []
    pending = next(rows, None)

    def expire(moment: float) -> None:
        while ends and ends[0][0] <= moment:
            _end, user = heapq.heappop(ends)
            active[user] -= 1
            if not active[user]:
                del active[user]

    for start, stop in pairwise(edges):
        expire(start)
        peak = len(active)
        while pending is not None and pending.joined_at < stop:
            moment = max(pending.joined_at, start)
            expire(moment)
            end = pending.left_at if pending.left_at is not None else now
            if end > moment:
                heapq.heappush(ends, (end, pending.user_id or 0))
                active[pending.user_id or 0] += 1
                peak = max(peak, len(active))
            pending = next(rows, None)
        yield peak


def _usage(
    ctx: ReportContext, begin: float, until: float, group_by: str, edges: list[float]
) -> Iterator[str]:
    seats = ctx.db.scalar(
        select(func.count(User.id)).where(User.enabled, User.perm_support)
    )
    yield open_root("license_usage", ctx.namespace)
    head = E("head")
    head.children.append(time_element("start_time", begin))
    head.children.append(time_element("end_time", until))
    head.add("group_by", group_by)
    yield "".join(render(child) for child in head.children)
    yield "\t<license_time_intervals>\n"
    rows = _intervals(ctx, begin, until)
    for start, peak in zip(edges, peaks(rows, edges, ctx.now), strict=False):
        interval = E("license_time_interval")
        interval.children.append(time_element("time", start))
        interval.add("peak_license_count", peak)
        interval.add("license_count", seats or 0)
        yield render(interval, 2)
    yield "\t</license_time_intervals>\n"
    yield close_root("license_usage")
