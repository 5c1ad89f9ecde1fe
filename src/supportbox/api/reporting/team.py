"""SupportTeam (spec 5.9): what the members of each team did.

supportbox keeps no separate team log; a team's activity is read from the
session events in which one of its current members joins, leaves or
changes state, and the transfers of sessions into or out of the team's
queue. Events are matched on their own time: ``start_*`` and ``end_*``
windows both select ``[begin, until)`` of the event timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select

from supportbox.api.reporting import events, query
from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.api.reporting.window import Window
from supportbox.core import events as names
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput
from supportbox.storage.models import Team, TeamMember
from supportbox.xml.writer import (
    E,
    close_root,
    error_document,
    escape_attr,
    open_root,
    render,
)

NO_DATA = (
    "No Support Team report information matching your chosen criteria is available."
)
MEMBER_EVENTS = (names.MEMBER_ADDED, names.MEMBER_DEPARTED, names.MEMBER_STATE_CHANGED)
QUEUE_EVENTS = (names.TO_QUEUE, names.AWAY_FROM_QUEUE)
CHUNK = 1000


def support_team(ctx: ReportContext) -> Stream:
    window = ctx.window()
    raw = ctx.param("team_id")
    teams = select(Team.id, Team.name).order_by(Team.id)
    if raw:
        if not is_id(raw):
            raise InvalidInput(f"Invalid team_id: {raw[:40]!r}; expected a number.")
        teams = teams.where(Team.id == int(raw))
    chosen = [(ident, name) for ident, name in ctx.db.execute(teams)]
    return Stream(_team_list(ctx, window, chosen))


def _team_list(
    ctx: ReportContext, window: Window, teams: list[tuple[int, str]]
) -> Iterator[str]:
    opened = False
    for team_id, team_name in teams:
        members = set(
            ctx.db.scalars(
                select(TeamMember.user_id).where(TeamMember.team_id == team_id)
            )
        )
        activity = _activity(ctx, window, team_name, members)
        first = next(activity, None)
        if first is None:
            continue
        if not opened:
            yield open_root("team_activity_list", ctx.namespace)
            opened = True
        name = escape_attr(team_name)
        yield f'\t<team_activity name="{name}" id="{team_id}">\n\t\t<events>\n'
        yield first
        yield from activity
        yield "\t\t</events>\n\t</team_activity>\n"
    if opened:
        yield close_root("team_activity_list")
    else:
        yield error_document(NO_DATA, ctx.namespace)


def _activity(
    ctx: ReportContext, window: Window, team_name: str, members: set[int]
) -> Iterator[str]:
    EV, P = query.EV, query.P
    chosen = (
        select(EV.id, EV.session_id, EV.timestamp, EV.event_type)
        .add_columns(EV.performed_by, EV.destination, EV.data)
        .where(EV.event_type.in_(MEMBER_EVENTS + QUEUE_EVENTS))
        .where(EV.timestamp >= window.begin)
        .order_by(EV.timestamp, EV.id)
    )
    if window.until is not None:
        chosen = chosen.where(EV.timestamp < window.until)
    rows = iter(ctx.db.execute(chosen.execution_options(yield_per=CHUNK)))
    while chunk := list(islice(rows, CHUNK)):
        ids = {row.session_id for row in chunk}
        owners = {
            (p.session_id, p.gsnumber): p.user_id
            for p in ctx.db.execute(
                select(P.session_id, P.gsnumber, P.user_id).where(P.session_id.in_(ids))
            )
        }
        for row in chunk:
            rep = _team_actor(row, team_name, members, owners)
            if rep is not None:
                yield render(_event(row, rep), 3)


def _team_actor(
    row: Any, team_name: str, members: set[int], owners: dict[tuple[int, int], Any]
) -> dict[str, Any] | None:
    """The member this event is about, or ``None`` if not the team's."""
    for actor in (row.destination, row.performed_by):
        if not actor or actor.get("type") != "representative":
            continue
        user_id = owners.get((row.session_id, int(actor.get("gsnumber", 0))))
        if user_id in members:
            return dict(actor)
    if row.event_type in QUEUE_EVENTS:
        queues = {str(value) for name, value in row.data or [] if name == "owner"}
        if team_name in queues:
            return dict(row.performed_by or {"type": "system", "name": ""})
    return None


def _event(row: Any, rep: dict[str, Any]) -> E:
    element = E(
        "event", None, {"timestamp": int(row.timestamp), "event_type": row.event_type}
    )
    element.children.append(events.actor("performed_by", rep, with_gsnumber=False))
    if row.data:
        element.children.append(events.data(row.data))
    return element
