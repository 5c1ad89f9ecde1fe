"""ArchiveListing and Archive (spec 5.11), built on demand from storage.

A day (midnight to midnight in ``report_timezone``) has up to 48 state
archives, one snapshot every 30 minutes (index 1 is 00:00), and up to 144
event archives, one per 10 minutes (index 1 is 00:00-00:10). An archive
exists when it has content: a state archive when a session was in
progress at its moment, an event archive when an event happened in its
interval. Archives are gzip-compressed JSON: a state archive is one
object of tables keyed by row id (``null`` for an empty table), an event
archive one JSON object per line.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, or_, select

from supportbox.api.reporting import query
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import time_element, unix
from supportbox.api.reporting.window import midnight, parse_date, timezone
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput, NotFound
from supportbox.xml.writer import E, close_root, open_root, render

NO_ARCHIVES = "No archives found for the given search criteria."
STATE_STEP = 1800
EVENT_STEP = 600
GZIP = "application/gzip"


def _day(ctx: ReportContext) -> tuple[float, float]:
    raw = ctx.param("date")
    if not raw:
        raise InvalidInput("Missing date: give the day as YYYY-MM-DD.")
    day = parse_date(raw)
    zone = timezone(ctx.settings.report_timezone)
    start = midnight(day, zone)
    end = midnight(day.fromordinal(day.toordinal() + 1), zone)
    return start, min(end, ctx.now)


def state_slots(ctx: ReportContext, start: float, end: float) -> list[int]:
    """Indexes (1-based) of the snapshots with a session in progress."""
    S = query.S
    rows = select(S.start_time, S.end_time).where(
        S.start_time <= end, or_(S.end_time.is_(None), S.end_time > start)
    )
    slots: set[int] = set()
    count = int((end - start) // STATE_STEP) + 1
    for began, ended in ctx.db.execute(rows.execution_options(yield_per=1000)):
        first = max(0, -int((start - began) // STATE_STEP))
        for slot in range(first, count):
            moment = start + slot * STATE_STEP
            if moment > end or (ended is not None and ended <= moment):
                break
            slots.add(slot + 1)
        if len(slots) == count:
            break
    return sorted(slots)


def event_slots(ctx: ReportContext, start: float, end: float) -> list[int]:
    """Indexes (1-based) of the 10-minute intervals holding an event."""
    EV = query.EV
    slots = []
    cursor = start
    while cursor < end:
        first = ctx.db.scalar(
            select(func.min(EV.timestamp)).where(
                EV.timestamp >= cursor, EV.timestamp < end
            )
        )
        if first is None:
            break
        slot = int((first - start) // EVENT_STEP)
        slots.append(slot + 1)
        cursor = start + (slot + 1) * EVENT_STEP
    return slots


def archive_listing(ctx: ReportContext) -> Stream:
    start, end = _day(ctx)
    states = state_slots(ctx, start, end)
    events = event_slots(ctx, start, end)
    if not states and not events:
        raise NotFound(NO_ARCHIVES)
    return Stream(_listing(ctx, start, states, events))


def _listing(
    ctx: ReportContext, start: float, states: list[int], events: list[int]
) -> Iterator[str]:
    yield open_root("archives", ctx.namespace)
    for index in states:
        element = E("state_archive")
        element.children.append(time_element("time", start + (index - 1) * STATE_STEP))
        element.add("index", index)
        yield render(element)
    for index in events:
        begin = start + (index - 1) * EVENT_STEP
        element = E("event_archive")
        element.children.append(time_element("start_time", begin))
        element.children.append(time_element("end_time", begin + EVENT_STEP))
        element.add("index", index)
        yield render(element)
    yield close_root("archives")


def archive(ctx: ReportContext) -> Stream:
    kind = ctx.param("type")
    if kind not in ("state", "event"):
        raise InvalidInput(f"Invalid type: {kind[:40]!r}; expected state or event.")
    raw = ctx.param("index")
    if not is_id(raw) or int(raw) < 1:
        raise InvalidInput(f"Invalid index: {raw[:40]!r}; expected 1, 2, 3...")
    index = int(raw)
    start, end = _day(ctx)
    date = ctx.param("date")
    filename = f"{kind}-archive-{date}-{index}.json.gz"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if kind == "state":
        if index not in state_slots(ctx, start, end):
            raise NotFound(NO_ARCHIVES)
        moment = start + (index - 1) * STATE_STEP
        body = _gzip(iter([json.dumps(state_snapshot(ctx, moment)).encode()]))
        return Stream(body, GZIP, headers)
    begin = start + (index - 1) * EVENT_STEP
    stop = min(begin + EVENT_STEP, end)
    if index > 144 or begin >= stop or not event_slots(ctx, begin, stop):
        raise NotFound(NO_ARCHIVES)
    return Stream(_gzip(_event_lines(ctx, begin, stop)), GZIP, headers)


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        packed = packer.compress(chunk)
        if packed:
            yield packed
    yield packer.flush()


def _event_lines(ctx: ReportContext, begin: float, stop: float) -> Iterator[bytes]:
    EV, S = query.EV, query.S
    rows = (
        select(S.lsid, S.id.label("lseq"), query.EVENTS)
        .join(query.SESSIONS, S.id == EV.session_id)
        .where(EV.timestamp >= begin, EV.timestamp < stop)
        .order_by(EV.timestamp, EV.id)
    )
    lines = []
    for row in ctx.db.execute(rows.execution_options(yield_per=1000)):
        record: dict[str, Any] = {
            "timestamp": unix(row.timestamp),
            "event_type": row.event_type,
            "lsid": row.lsid,
            "lseq": row.lseq,
            "seq": row.seq,
        }
        for name in ("performed_by", "destination", "body", "filename", "filesize"):
            value = getattr(row, name)
            if value is not None:
                record[name] = value
        if row.data:
            record["data"] = {str(k): str(v) for k, v in row.data}
        if row.system_information:
            record["system_information"] = row.system_information
        lines.append(json.dumps(record) + "\n")
        if len(lines) >= 1000:
            yield "".join(lines).encode()
            lines = []
    yield "".join(lines).encode()


def state_snapshot(ctx: ReportContext, moment: float) -> dict[str, Any]:
    """The tables of supportbox's live state at ``moment``."""
    S, P = query.S, query.P
    at_moment = (
        S.start_time <= moment,
        or_(S.end_time.is_(None), S.end_time > moment),
    )
    live = select(query.SESSIONS).where(*at_moment, S.session_type == "support")
    tables: dict[str, dict[str, Any]] = {
        "customer_client": {},
        "representative": {},
        "support_session": {},
        "representative_support_session": {},
    }
    for session in ctx.db.execute(live.order_by(S.id)):
        key = f"s{session.id}"
        people = ctx.db.execute(
            select(query.PARTICIPANTS)
            .where(P.session_id == session.id, P.joined_at <= moment)
            .where(or_(P.left_at.is_(None), P.left_at > moment))
            .order_by(P.gsnumber)
        ).all()
        customer = next((p for p in people if p.kind == "customer"), None)
        tables["support_session"][key] = {
            "lsid": session.lsid,
            "lseq": session.id,
            "customer_name": customer.name if customer else "",
            "created_timestamp": unix(session.start_time),
            "start_method": session.start_method,
            "external_key": session.external_key,
            "public_site_id": session.public_site_id,
        }
        for person in people:
            client = {
                "hostname": person.hostname,
                "operating_system": person.os,
                "private_ip": person.private_ip,
                "public_ip": person.public_ip,
                "created_timestamp": unix(person.joined_at),
            }
            if person.kind == "customer":
                client.update(support_session_id=key, username=person.username)
                tables["customer_client"][f"c{person.id}"] = client
                continue
            rep_key = f"r{person.user_id}"
            client.update(
                public_display_name=person.name,
                private_display_name=person.private_display_name or person.name,
                user_id=person.user_id,
                username=person.username,
            )
            tables["representative"].setdefault(rep_key, client)
            tables["representative_support_session"][f"rs{person.id}"] = {
                "support_session_id": key,
                "representative_id": rep_key,
                "gsnumber": person.gsnumber,
            }
    snapshot: dict[str, Any] = {name: rows or None for name, rows in tables.items()}
    presenting = select(query.SESSIONS).where(
        *at_moment, S.session_type == "presentation"
    )
    presentations = {
        f"p{row.id}": {
            "lsid": row.lsid,
            "lseq": row.id,
            "created_timestamp": unix(row.start_time),
            "public_site_id": row.public_site_id,
        }
        for row in ctx.db.execute(presenting.order_by(S.id))
    }
    snapshot["presentation_session"] = presentations or None
    return snapshot
