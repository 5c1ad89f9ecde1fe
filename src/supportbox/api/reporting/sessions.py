"""SupportSession and SupportSessionListing (spec 5.3, 5.4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from supportbox.api.reporting import events, query, surveys
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import bit, hms, time_element, unix
from supportbox.api.reporting.query import SessionBundle
from supportbox.xml.writer import E, close_root, escape_text, open_root, render

XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: Recording kinds with a view/download URL pair in the session element.
_SCREEN_URLS = (
    ("screen", "session_recording"),
    ("show_my_screen", "show_my_screen_recording"),
)


def selection(ctx: ReportContext) -> query.Selection:
    """A window, ``lsid`` or ``lsids`` (spec 5.3); lsids win over a window."""
    lsids = ctx.lsids()
    if lsids is not None:
        return query.Selection(lsids=lsids)
    return query.Selection(window=ctx.window())


def support_session(ctx: ReportContext) -> Stream:
    chosen = selection(ctx)
    return Stream(_session_list(ctx, chosen))


def _session_list(ctx: ReportContext, chosen: query.Selection) -> Iterator[str]:
    renderer = SessionRenderer(ctx)
    yield open_root("session_list", ctx.namespace, **{"xmlns:xsi": XSI})
    for batch in query.batches(ctx.db, chosen):
        yield "".join(renderer.session(bundle) for bundle in batch)
    yield close_root("session_list")


class SessionRenderer:
    """Builds ``<session>`` elements; holds the lookups of one report run."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.sites = ctx.site_names()
        self.fields = ctx.custom_fields()
        self.issues = surveys.QuestionBook(ctx.db)
        self.events = events.EventWriter(3)

    def session(self, bundle: SessionBundle) -> str:
        """One ``<session>`` element as text, children in spec 5.3 order."""
        row = bundle.session
        ended = row.end_time is not None
        finish = row.end_time if ended else self.ctx.now
        site_id = row.public_site_id or 0
        site = escape_text(self.sites.get(site_id, ""))
        head = [
            f'\t<session lsid="{row.lsid}">\n',
            f"\t\t<session_type>{escape_text(row.session_type)}</session_type>\n",
            f"\t\t<lseq>{row.id}</lseq>\n",
            render(time_element("start_time", row.start_time), 2),
            render(time_element("end_time", row.end_time), 2),
            f"\t\t<duration>{hms(unix(finish) - unix(row.start_time))}</duration>\n",
            f'\t\t<public_site id="{site_id}">{site}</public_site>\n',
            f"\t\t<external_key>{escape_text(row.external_key or '')}</external_key>\n",
        ]
        tail = E("tail")
        tail.children.append(self._custom(row.custom or {}))
        if ended:
            self._links(tail, row.lsid, bundle.recordings)
        tail.add("file_transfer_count", row.file_transfer_count)
        tail.add("file_move_count", row.file_move_count)
        tail.add("file_delete_count", row.file_delete_count)
        self._people(tail, bundle.participants, finish)
        head.extend(render(child, 2) for child in tail.children)

        if bundle.events:
            head.append("\t\t<session_details>\n")
            head.extend(self.events.event(e) for e in bundle.events)
            head.append("\t\t</session_details>\n")
        else:
            head.append("\t\t<session_details></session_details>\n")
        surveys = E("surveys")
        self._surveys(surveys, bundle)
        head.extend(render(child, 2) for child in surveys.children)
        head.append("\t</session>\n")
        return "".join(head)

    def _custom(self, values: dict[str, Any]) -> E:
        element = E("custom_attributes")
        known = dict(self.fields)
        ordered = [code for code, _ in self.fields if code in values]
        ordered += sorted(code for code in values if code not in known)
        for code in ordered:
            element.add(
                "custom_attribute",
                str(values[code]),
                display_name=known.get(code, code),
                code_name=code,
            )
        return element

    def _links(self, element: E, lsid: str, recordings: list[Any]) -> None:
        view, download = self.ctx.links.urls(lsid, "chat")
        element.add("session_chat_view_url", view)
        element.add("session_chat_download_url", download)
        kinds = {r.kind for r in recordings}
        for kind, prefix in _SCREEN_URLS:
            if kind in kinds:
                view, download = self.ctx.links.urls(lsid, kind)
                element.add(f"{prefix}_view_url", view)
                element.add(f"{prefix}_download_url", download)
        shells = [r for r in recordings if r.kind == "shell"]
        if shells:
            listing = element.add("command_shell_recordings")
            for shell in shells:
                view, download = self.ctx.links.urls(lsid, "shell", shell.instance)
                item = listing.add("command_shell_recording")
                item.add("instance", shell.instance)
                item.add("download_url", download)
                item.add("view_url", view)

    def _people(self, element: E, participants: list[Any], finish: float) -> None:
        customers = [p for p in participants if p.kind == "customer"]
        reps = [p for p in participants if p.kind == "representative"]
        primary = next((p for p in customers if p.is_primary), None)
        if primary is None and customers:
            primary = customers[0]
        element.add(
            "primary_customer",
            primary.name if primary else "",
            gsnumber=primary.gsnumber if primary else 0,
        )
        lead = next((p for p in reps if p.is_primary), None)
        if lead is not None:
            element.add(
                "primary_rep", lead.name, gsnumber=lead.gsnumber, id=lead.user_id
            )

        customer_list = element.add("customer_list")
        for person in customers:
            customer_list.children.append(customer(person))
        rep_list = element.add("rep_list")
        for person in reps:
            rep_list.children.append(representative(person, finish))

    def _surveys(self, element: E, bundle: SessionBundle) -> None:
        for survey, tag, item in (
            ("customer", "cust_survey_list", "cust_exit_survey"),
            ("rep", "rep_survey_list", "rep_exit_survey"),
        ):
            answered = [s for s in bundle.surveys if s.survey == survey]
            if not answered:
                continue
            listing = element.add(tag)
            for response in answered:
                entry = listing.add(item, gsnumber=response.gsnumber)
                for name, value in self.issues.values(survey, response.answers):
                    entry.add("value", short=True, name=name, value=value)


def customer(row: Any) -> E:
    element = E("customer", None, {"gsnumber": row.gsnumber})
    element.add("username", row.username)
    element.add("public_ip", row.public_ip)
    element.add("private_ip", row.private_ip)
    element.add("hostname", row.hostname)
    element.add("os", row.os)
    element.add("primary_cust", bit(row.is_primary))
    info = element.add("info")
    stored = row.info or {}
    info.add("name", str(stored.get("name", row.name)))
    for key in ("company", "company_code", "issue", "details"):
        info.add(key, str(stored.get(key, "")))
    return element


def seconds_involved(row: Any, finish: float) -> int:
    """Stored once the rep has left; counted up to ``finish`` until then."""
    if row.left_at is not None:
        return int(row.seconds_involved or (row.left_at - row.joined_at))
    return max(0, int(row.seconds_involved) + int(finish - row.joined_at))


def representative(row: Any, finish: float) -> E:
    element = E("representative", None, {"gsnumber": row.gsnumber, "id": row.user_id})
    element.add("username", row.username)
    element.add("display_name", row.name)
    element.add("public_display_name", row.name)
    element.add("private_display_name", row.private_display_name or row.name)
    element.add("public_ip", row.public_ip)
    element.add("private_ip", row.private_ip)
    element.add("hostname", row.hostname)
    element.add("os", row.os)
    element.add("session_owner", bit(row.session_owner))
    element.add("primary_rep", bit(row.is_primary))
    if row.invited:
        element.add("invited", 1)
    element.add("seconds_involved", seconds_involved(row, finish))
    return element


def support_session_listing(ctx: ReportContext) -> Stream:
    chosen = query.Selection(window=ctx.window())
    return Stream(_summary_list(ctx, chosen))


def _summary_list(ctx: ReportContext, chosen: query.Selection) -> Iterator[str]:
    yield open_root("session_summary_list", ctx.namespace)
    for batch in query.batches(ctx.db, chosen, related=("recordings",)):
        parts = []
        for bundle in batch:
            row = bundle.session
            attrs: dict[str, str | int] = {"lsid": row.lsid}
            if row.external_key:
                attrs["external_key"] = row.external_key
            attrs["has_recording"] = bit(bool(bundle.recordings))
            parts.append(render(E("session_summary", None, attrs, short=True)))
        yield "".join(parts)
    yield close_root("session_summary_list")
