"""Finding support sessions by date, representative, team, key or customer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from supportbox.errors import InvalidInput
from supportbox.storage.models import Participant, SupportSession, TeamMember

LIMIT = 200


@dataclass(frozen=True)
class Criteria:
    start: str = ""  # YYYY-MM-DD, UTC, inclusive
    end: str = ""  # YYYY-MM-DD, UTC, inclusive
    rep: int | None = None
    team: int | None = None
    external_key: str = ""
    customer: str = ""

    @property
    def empty(self) -> bool:
        return self == Criteria()


def _day(text: str, what: str) -> float:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date like 2024-05-31") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def _rep_in(session_filter: Select[tuple[int]]) -> Select[tuple[int]]:
    return session_filter.where(
        Participant.session_id == SupportSession.id,
        Participant.kind == "representative",
    )


def query(criteria: Criteria) -> Select[SupportSession]:
    """The sessions matching every given criterion, newest first."""
    stmt = select(SupportSession)
    if criteria.start:
        stmt = stmt.where(SupportSession.start_time >= _day(criteria.start, "from"))
    if criteria.end:
        end = _day(criteria.end, "to") + 86400
        stmt = stmt.where(SupportSession.start_time < end)
    if criteria.rep is not None:
        stmt = stmt.where(
            exists(
                _rep_in(select(Participant.id)).where(
                    Participant.user_id == criteria.rep
                )
            )
        )
    if criteria.team is not None:
        members = select(TeamMember.user_id).where(TeamMember.team_id == criteria.team)
        in_team_queue = (SupportSession.queue_kind == "team") & (
            SupportSession.queue_ref == criteria.team
        )
        served_by_member = exists(
            _rep_in(select(Participant.id)).where(Participant.user_id.in_(members))
        )
        stmt = stmt.where(or_(in_team_queue, served_by_member))
    if criteria.external_key:
        pattern = f"%{_escape(criteria.external_key)}%"
        stmt = stmt.where(SupportSession.external_key.ilike(pattern, escape="\\"))
    if criteria.customer:
        pattern = f"%{_escape(criteria.customer)}%"
        stmt = stmt.where(
            exists(
                select(Participant.id).where(
                    Participant.session_id == SupportSession.id,
                    Participant.kind == "customer",
                    Participant.name.ilike(pattern, escape="\\"),
                )
            )
        )
    return stmt.order_by(SupportSession.start_time.desc()).limit(LIMIT)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find(db: Session, criteria: Criteria) -> list[SupportSession]:
    return list(db.scalars(query(criteria)))
