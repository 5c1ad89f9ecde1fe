"""SupportSessionSummary (spec 5.5): totals per rep, team or public site.

A session counts for every representative who joined it, for the team
whose queue it sat in (or else its issue's team), and for its public site.
``avg_session_length`` averages the sessions that have ended;
``avg_wait_time`` the time from the start to the first representative
joining, over the sessions a representative joined.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from supportbox.api.reporting import query
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.format import hms
from supportbox.errors import InvalidInput
from supportbox.storage.models import Issue, PublicSite, Team, User
from supportbox.xml.writer import E, close_root, open_root, render

REPORT_TYPES = {"rep": "representative", "team": "team", "site": "public_site"}


@dataclass
class Totals:
    sessions: int = 0
    ended: int = 0
    length: float = 0.0
    waited: int = 0
    wait: float = 0.0

    def add(self, length: float | None, wait: float | None) -> None:
        self.sessions += 1
        if length is not None:
            self.ended += 1
            self.length += length
        if wait is not None:
            self.waited += 1
            self.wait += wait


def support_session_summary(ctx: ReportContext) -> Stream:
    report_type = ctx.param("report_type") or "rep"
    if report_type not in REPORT_TYPES:
        raise InvalidInput(
            f"Invalid report_type: {report_type[:40]!r}; expected rep, team or site."
        )
    chosen = query.Selection(window=ctx.window())
    return Stream(_summaries(ctx, chosen, report_type))


def _names(ctx: ReportContext, report_type: str) -> dict[int, str]:
    if report_type == "rep":
        rows = select(User.id, User.public_display_name)
    elif report_type == "team":
        rows = select(Team.id, Team.name)
    else:
        rows = select(PublicSite.id, PublicSite.name)
    return {k: v for k, v in ctx.db.execute(rows)}


def _summaries(
    ctx: ReportContext, chosen: query.Selection, report_type: str
) -> Iterator[str]:
    issue_teams = {k: v for k, v in ctx.db.execute(select(Issue.id, Issue.team_id))}
    names = _names(ctx, report_type)
    totals: dict[int, Totals] = {}
    for batch in query.batches(ctx.db, chosen, related=("participants",)):
        for bundle in batch:
            row = bundle.session
            reps = [p for p in bundle.participants if p.kind == "representative"]
            first_join = min((p.joined_at for p in reps), default=None)
            wait = None if first_join is None else max(0.0, first_join - row.start_time)
            length = None if row.end_time is None else row.end_time - row.start_time
            for key in _keys(report_type, row, reps, issue_teams):
                totals.setdefault(key, Totals()).add(length, wait)

    tag = REPORT_TYPES[report_type]
    yield open_root("summary_list", ctx.namespace)
    for key in sorted(totals):
        total = totals[key]
        element = E("summary")
        element.add(tag, names.get(key, ""), id=key)
        element.add("total_sessions", total.sessions)
        element.add("avg_session_length", hms(total.length / max(total.ended, 1)))
        element.add("avg_wait_time", hms(total.wait / max(total.waited, 1)))
        yield render(element)
    yield close_root("summary_list")


def _keys(
    report_type: str, row: Any, reps: list[Any], issue_teams: dict[int, int]
) -> set[int]:
    if report_type == "rep":
        return {int(p.user_id) for p in reps if p.user_id}
    if report_type == "site":
        return {int(row.public_site_id)} if row.public_site_id else set()
    if row.queue_kind == "team" and row.queue_ref:
        return {int(row.queue_ref)}
    team = issue_teams.get(row.issue_id or 0)
    return {team} if team else set()
