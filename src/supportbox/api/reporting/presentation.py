"""PresentationSession and PresentationSessionListing (spec 5.7).

A presentation is stored as a session of ``session_type`` "presentation"
(:mod:`supportbox.presentation.store`); these reports read those rows
with the same window, ``lsid`` and ``lsids`` parameters as SupportSession,
and write the shape spec 5.7 reconstructs: the presenter, the attendees,
the events, and (once it ended) the links to its recording.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from supportbox.api.reporting import events, query
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import bit, hms, time_element, unix
from supportbox.api.reporting.query import SessionBundle
from supportbox.api.reporting.sessions import selection
from supportbox.presentation.store import ATTENDEE, PRESENTER, SESSION_TYPE
from supportbox.xml.writer import E, close_root, open_root, render


def _chosen(ctx: ReportContext, chosen: query.Selection) -> query.Selection:
    return query.Selection(chosen.window, chosen.lsids, session_type=SESSION_TYPE)


def presentation_session(ctx: ReportContext) -> Stream:
    return Stream(_session_list(ctx, _chosen(ctx, selection(ctx))))


def presentation_session_listing(ctx: ReportContext) -> Stream:
    chosen = query.Selection(window=ctx.window(), session_type=SESSION_TYPE)
    return Stream(_summary_list(ctx, chosen))


def _session_list(ctx: ReportContext, chosen: query.Selection) -> Iterator[str]:
    writer = events.EventWriter(3)
    sites = ctx.site_names()
    yield open_root("presentation_session_list", ctx.namespace)
    for batch in query.batches(ctx.db, chosen):
        yield "".join(_session(ctx, writer, sites, bundle) for bundle in batch)
    yield close_root("presentation_session_list")


def _session(
    ctx: ReportContext,
    writer: events.EventWriter,
    sites: dict[int, str],
    bundle: SessionBundle,
) -> str:
    row = bundle.session
    finish = row.end_time if row.end_time is not None else ctx.now
    site_id = row.public_site_id or 0
    children = [
        time_element("start_time", row.start_time),
        time_element("end_time", row.end_time),
        E("duration", hms(unix(finish) - unix(row.start_time))),
        E("public_site", sites.get(site_id, ""), {"id": site_id}),
    ]
    people = bundle.participants
    for presenter in (p for p in people if p.kind == PRESENTER):
        attrs = {"gsnumber": presenter.gsnumber, "id": presenter.user_id or 0}
        children.append(E("presenter", presenter.name, attrs))
    listing = E("attendee_list")
    for person in (p for p in people if p.kind == ATTENDEE):
        listing.children.append(_attendee(person, finish))
    children.append(listing)
    recorded = any(r.kind == SESSION_TYPE for r in bundle.recordings)
    if row.end_time is not None and recorded:
        view, download = ctx.links.urls(row.lsid, SESSION_TYPE)
        children.append(E("presentation_recording_view_url", view))
        children.append(E("presentation_recording_download_url", download))

    lines = [f'\t<presentation_session lsid="{row.lsid}">\n']
    lines.extend(render(child, 2) for child in children)
    if bundle.events:
        details = writer.events(bundle.events)
        lines += ["\t\t<session_details>\n", details, "\t\t</session_details>\n"]
    else:
        lines.append("\t\t<session_details></session_details>\n")
    lines.append("\t</presentation_session>\n")
    return "".join(lines)


def _attendee(person: Any, finish: float) -> E:
    element = E("attendee", None, {"gsnumber": person.gsnumber})
    element.add("name", person.name)
    element.add("public_ip", person.public_ip)
    element.children.append(time_element("join_time", person.joined_at))
    element.children.append(time_element("leave_time", person.left_at))
    until = person.left_at if person.left_at is not None else finish
    element.add("seconds_involved", max(0, int(until - person.joined_at)))
    return element


def _summary_list(ctx: ReportContext, chosen: query.Selection) -> Iterator[str]:
    yield open_root("presentation_session_summary_list", ctx.namespace)
    related = ("participants", "recordings")
    for batch in query.batches(ctx.db, chosen, related=related):
        parts = []
        for bundle in batch:
            row = bundle.session
            attendees = [p for p in bundle.participants if p.kind == ATTENDEE]
            recorded = any(r.kind == SESSION_TYPE for r in bundle.recordings)
            attrs: dict[str, str | int] = {
                "lsid": row.lsid,
                "attendee_count": len(attendees),
                "has_recording": bit(recorded),
            }
            element = E("presentation_session_summary", None, attrs, short=True)
            parts.append(render(element))
        yield "".join(parts)
    yield close_root("presentation_session_summary_list")
