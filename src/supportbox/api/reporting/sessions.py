"""SupportSession and SupportSessionListing (spec 5.3, 5.4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

from supportbox.api.reporting import events, query, surveys
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import bit, hms, iso, unix
from supportbox.api.reporting.query import SessionBundle
from supportbox.api.reporting.readahead import read_ahead
from supportbox.xml.writer import (
    E,
    attr_of,
    close_root,
    escape_text,
    open_root,
    render,
    text_of,
)

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
    # The next batch is read while this one is written (readahead.py).
    batches = read_ahead(query.batches(ctx.db, chosen), "report-batches")
    with closing(batches):
        for batch in batches:
            yield "".join(map(renderer.session, batch))
    yield close_root("session_list")


class SessionRenderer:
    """Writes ``<session>`` elements; holds the lookups of one report run.

    A session element is written straight as text, line by line, in the
    byte shape :mod:`supportbox.xml.writer` gives an :class:`E` tree (a
    report writes millions of lines; building trees first costs twice the
    time). The rare parts (shell recordings, surveys) still use trees.
    """

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.sites = {k: escape_text(v) for k, v in ctx.site_names().items()}
        self.fields = ctx.custom_fields()
        self.known = dict(self.fields)
        self.issues = surveys.QuestionBook(ctx.db)
        self.events = events.EventWriter(3)

    def session(self, bundle: SessionBundle) -> str:
        """One ``<session>`` element as text, children in spec 5.3 order."""
        row = bundle.session
        ended = row.end_time is not None
        finish = row.end_time if ended else self.ctx.now
        site_id = row.public_site_id or 0
        out = [
            f'\t<session lsid="{row.lsid}">\n'
            f"\t\t<session_type>{text_of(row.session_type)}</session_type>\n"
            f"\t\t<lseq>{row.id}</lseq>\n"
            f"{_time('start_time', row.start_time)}{_time('end_time', row.end_time)}"
            f"\t\t<duration>{hms(unix(finish) - unix(row.start_time))}</duration>\n"
            f'\t\t<public_site id="{site_id}">{self.sites.get(site_id, "")}'
            "</public_site>\n"
            f"\t\t<external_key>{text_of(row.external_key)}</external_key>\n",
            self._custom(row.custom or {}),
        ]
        if ended:
            out.append(self._links(row.lsid, bundle.recordings))
        out.append(
            f"\t\t<file_transfer_count>{row.file_transfer_count}"
            "</file_transfer_count>\n"
            f"\t\t<file_move_count>{row.file_move_count}</file_move_count>\n"
            f"\t\t<file_delete_count>{row.file_delete_count}</file_delete_count>\n"
        )
        out.append(_people(bundle.participants, finish))
        if bundle.events:
            out.append("\t\t<session_details>\n")
            out.append(self.events.events(bundle.events))
            out.append("\t\t</session_details>\n")
        else:
            out.append("\t\t<session_details></session_details>\n")
        if bundle.surveys:
            element = E("surveys")
            self._surveys(element, bundle)
            out.extend(render(child, 2) for child in element.children)
        out.append("\t</session>\n")
        return "".join(out)

    def _custom(self, values: dict[str, Any]) -> str:
        if not values:
            return "\t\t<custom_attributes></custom_attributes>\n"
        known = self.known
        ordered = [code for code, _ in self.fields if code in values]
        ordered += sorted(code for code in values if code not in known)
        lines = [
            f'\t\t\t<custom_attribute display_name="{attr_of(known.get(code, code))}"'
            f' code_name="{attr_of(code)}">{text_of(str(values[code]))}'
            "</custom_attribute>\n"
            for code in ordered
        ]
        return f"\t\t<custom_attributes>\n{''.join(lines)}\t\t</custom_attributes>\n"

    def _links(self, lsid: str, recordings: list[Any]) -> str:
        view, download = self.ctx.links.urls(lsid, "chat")
        out = [
            f"\t\t<session_chat_view_url>{escape_text(view)}</session_chat_view_url>\n"
            f"\t\t<session_chat_download_url>{escape_text(download)}"
            "</session_chat_download_url>\n"
        ]
        if not recordings:
            return out[0]
        kinds = {r.kind for r in recordings}
        for kind, prefix in _SCREEN_URLS:
            if kind in kinds:
                view, download = self.ctx.links.urls(lsid, kind)
                out.append(
                    f"\t\t<{prefix}_view_url>{escape_text(view)}</{prefix}_view_url>\n"
                    f"\t\t<{prefix}_download_url>{escape_text(download)}"
                    f"</{prefix}_download_url>\n"
                )
        shells = [r for r in recordings if r.kind == "shell"]
        if shells:
            listing = E("command_shell_recordings")
            for shell in shells:
                view, download = self.ctx.links.urls(lsid, "shell", shell.instance)
                item = listing.add("command_shell_recording")
                item.add("instance", shell.instance)
                item.add("download_url", download)
                item.add("view_url", view)
            out.append(render(listing, 2))
        return "".join(out)

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


def _time(tag: str, moment: float | None) -> str:
    """``time_element(tag, moment)`` at depth 2, as text."""
    if moment is None:
        return f"\t\t<{tag}></{tag}>\n"
    return f'\t\t<{tag} timestamp="{unix(moment)}">{iso(moment)}</{tag}>\n'


def _people(participants: list[Any], finish: float) -> str:
    """``primary_customer``, ``primary_rep``, ``customer_list``, ``rep_list``.

    Participants' text columns are NOT NULL, so they go to escape_text() as
    they are; ``user_id`` may be NULL and is written as E writes ``None``.
    """
    customers = [p for p in participants if p.kind == "customer"]
    reps = [p for p in participants if p.kind == "representative"]
    primary = next((p for p in customers if p.is_primary), None)
    if primary is None and customers:
        primary = customers[0]
    if primary is None:
        out = ['\t\t<primary_customer gsnumber="0"></primary_customer>\n']
    else:
        out = [
            f'\t\t<primary_customer gsnumber="{attr_of(primary.gsnumber)}">'
            f"{escape_text(primary.name)}</primary_customer>\n"
        ]
    lead = next((p for p in reps if p.is_primary), None)
    if lead is not None:
        out.append(
            f'\t\t<primary_rep gsnumber="{attr_of(lead.gsnumber)}"'
            f' id="{attr_of(lead.user_id)}">{escape_text(lead.name)}</primary_rep>\n'
        )
    if customers:
        out.append("\t\t<customer_list>\n")
        out.extend(map(customer, customers))
        out.append("\t\t</customer_list>\n")
    else:
        out.append("\t\t<customer_list></customer_list>\n")
    if reps:
        out.append("\t\t<rep_list>\n")
        out.extend(representative(p, finish) for p in reps)
        out.append("\t\t</rep_list>\n")
    else:
        out.append("\t\t<rep_list></rep_list>\n")
    return "".join(out)


def customer(row: Any) -> str:
    """One ``<customer>`` of ``customer_list`` (depth 3), as text."""
    stored = row.info or {}
    get = stored.get
    return (
        f'\t\t\t<customer gsnumber="{attr_of(row.gsnumber)}">\n'
        f"\t\t\t\t<username>{escape_text(row.username)}</username>\n"
        f"\t\t\t\t<public_ip>{escape_text(row.public_ip)}</public_ip>\n"
        f"\t\t\t\t<private_ip>{escape_text(row.private_ip)}</private_ip>\n"
        f"\t\t\t\t<hostname>{escape_text(row.hostname)}</hostname>\n"
        f"\t\t\t\t<os>{escape_text(row.os)}</os>\n"
        f"\t\t\t\t<primary_cust>{bit(row.is_primary)}</primary_cust>\n"
        "\t\t\t\t<info>\n"
        f"\t\t\t\t\t<name>{escape_text(str(get('name', row.name)))}</name>\n"
        f"\t\t\t\t\t<company>{escape_text(str(get('company', '')))}</company>\n"
        "\t\t\t\t\t<company_code>"
        f"{escape_text(str(get('company_code', '')))}</company_code>\n"
        f"\t\t\t\t\t<issue>{escape_text(str(get('issue', '')))}</issue>\n"
        f"\t\t\t\t\t<details>{escape_text(str(get('details', '')))}</details>\n"
        "\t\t\t\t</info>\n"
        "\t\t\t</customer>\n"
    )


def seconds_involved(row: Any, finish: float) -> int:
    """Stored once the rep has left; counted up to ``finish`` until then."""
    if row.left_at is not None:
        return int(row.seconds_involved or (row.left_at - row.joined_at))
    return max(0, int(row.seconds_involved) + int(finish - row.joined_at))


def representative(row: Any, finish: float) -> str:
    """One ``<representative>`` of ``rep_list`` (depth 3), as text."""
    name = escape_text(row.name)
    private = escape_text(row.private_display_name or row.name)
    invited = "\t\t\t\t<invited>1</invited>\n" if row.invited else ""
    return (
        f'\t\t\t<representative gsnumber="{attr_of(row.gsnumber)}"'
        f' id="{attr_of(row.user_id)}">\n'
        f"\t\t\t\t<username>{escape_text(row.username)}</username>\n"
        f"\t\t\t\t<display_name>{name}</display_name>\n"
        f"\t\t\t\t<public_display_name>{name}</public_display_name>\n"
        f"\t\t\t\t<private_display_name>{private}</private_display_name>\n"
        f"\t\t\t\t<public_ip>{escape_text(row.public_ip)}</public_ip>\n"
        f"\t\t\t\t<private_ip>{escape_text(row.private_ip)}</private_ip>\n"
        f"\t\t\t\t<hostname>{escape_text(row.hostname)}</hostname>\n"
        f"\t\t\t\t<os>{escape_text(row.os)}</os>\n"
        f"\t\t\t\t<session_owner>{bit(row.session_owner)}</session_owner>\n"
        f"\t\t\t\t<primary_rep>{bit(row.is_primary)}</primary_rep>\n"
        f"{invited}"
        f"\t\t\t\t<seconds_involved>{seconds_involved(row, finish)}"
        "</seconds_involved>\n"
        "\t\t\t</representative>\n"
    )


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
