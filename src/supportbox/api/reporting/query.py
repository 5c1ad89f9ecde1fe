"""Reading sessions for reports in batches, so memory stays flat.

A report asks for a :class:`Selection` (a window, a list of lsids, extra
filters) and receives lists of :class:`SessionBundle`: each session row
with the rows of the related tables the report needs. Sessions are read
in LSEQ order with keyset pagination (``id > last``), ``batch_size`` at a
time; the related rows of a batch come from one ``IN`` query per table.
Rows are plain tuples, not ORM objects: reports only read, and tuples
cost a fraction of the memory and time. On PostgreSQL the ids of a batch
go as one array parameter (see :func:`_among`).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Result,
    Row,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from supportbox.api.reporting.window import Window
from supportbox.storage.models import (
    Participant,
    Recording,
    SessionEvent,
    SupportSession,
    SurveyResponse,
)

BATCH_SIZE = 500

SESSIONS = SupportSession.__table__
PARTICIPANTS = Participant.__table__
EVENTS = SessionEvent.__table__

S = SESSIONS.c
P = PARTICIPANTS.c
EV = EVENTS.c
SR = SurveyResponse.__table__.c
REC = Recording.__table__.c

#: The related tables a report may ask for.
RELATED = ("participants", "events", "surveys", "recordings")


@dataclass(frozen=True)
class Selection:
    """Which sessions a report covers: a window, lsids, or both narrowed.

    Support reports see support sessions; presentation reports pass
    ``session_type="presentation"``.
    """

    window: Window | None = None
    lsids: tuple[str, ...] | None = None
    filters: tuple[ColumnElement[bool], ...] = ()
    session_type: str = "support"

    def where(self) -> ColumnElement[bool]:
        clauses: list[ColumnElement[bool]] = list(self.filters)
        clauses.append(S.session_type == self.session_type)
        if self.lsids is not None:
            clauses.append(S.lsid.in_(self.lsids))
        if self.window is not None:
            clauses.append(window_clause(self.window))
        return and_(true(), *clauses)


def window_clause(window: Window) -> ColumnElement[bool]:
    column = S.start_time if window.field == "start" else S.end_time
    clause = column >= window.begin
    if window.until is not None:
        clause = and_(clause, column < window.until)
    return clause


@dataclass
class SessionBundle:
    """One session and the related rows a report asked for.

    Rows are named tuples of the queries' columns, except events: rows of
    the events query, in its column order.
    """

    session: Any
    participants: list[Any] = field(default_factory=list)
    events: list[Row[Any]] = field(default_factory=list)
    surveys: list[Any] = field(default_factory=list)
    recordings: list[Any] = field(default_factory=list)


def _among(
    column: ColumnElement[int], ids: Sequence[int], dialect: str
) -> ColumnElement[bool]:
    """``column IN ids``, for ``ids`` in ascending order.

    The range beside the list lets PostgreSQL walk a ``(session_id, ...)``
    index in order instead of sorting the batch. There the list is one
    array parameter (``= ANY``): the statement text stays the same from
    batch to batch, so the driver parses it once and the server prepares
    it once, where 500 ``IN`` parameters made a long text parsed each time.
    """
    span = and_(column >= ids[0], column <= ids[-1])
    if dialect == "postgresql":
        array = bindparam("ids", list(ids), type_=ARRAY(BigInteger))
        return and_(span, column == any_(array))
    return and_(span, column.in_(ids))


def _grouped(
    db: Session, query: Select[Any], ids: Sequence[int], as_records: bool
) -> dict[int, list[Any]]:
    """The rows of ``query`` for sessions ``ids`` (ascending), by session id."""
    column = query.selected_columns[0]
    result = db.execute(query.where(_among(column, ids, _dialect(db))))
    rows = _records(result) if as_records else result.all()
    return {key: list(group) for key, group in groupby(rows, itemgetter(0))}


def _records(result: Result[Any]) -> list[Any]:
    """The rows of ``result`` as named tuples.

    Reading a field of a named tuple costs a tenth of reading it from a
    SQLAlchemy ``Row`` by name, and reports read dozens per session.
    """
    keys = tuple(result.keys())
    record: Any = _RECORDS.get(keys)
    if record is None:
        record = _RECORDS[keys] = namedtuple("Record", keys)
    return list(map(record._make, result.all()))


_RECORDS: dict[tuple[str, ...], type[tuple[Any, ...]]] = {}


def _dialect(db: Session) -> str:
    return db.get_bind().dialect.name


#: JSON columns of events come as their stored text: the session report
#: decodes each distinct value once (actors repeat in every event).
_RAW_JSON = ("performed_by", "destination", "data", "system_information")
_EVENT_COLUMNS = [
    cast(c, Text).label(c.name) if c.name in _RAW_JSON else c
    for c in EV
    if c.name not in ("session_id", "id", "seq")
]

#: Participant columns that only the live session uses.
_LIVE_ONLY = ("id", "teams", "token_hash", "node_id", "present", "connected")

_RELATED_QUERIES: dict[str, Select[Any]] = {
    "participants": select(
        P.session_id, *[c for c in P if c.name not in ("session_id", *_LIVE_ONLY)]
    ).order_by(P.session_id, P.gsnumber),
    "events": select(EV.session_id, *_EVENT_COLUMNS).order_by(EV.session_id, EV.seq),
    "surveys": select(
        SR.session_id, *[c for c in SR if c.name != "session_id"]
    ).order_by(SR.session_id, SR.submitted_at, SR.id),
    "recordings": select(
        REC.session_id, *[c for c in REC if c.name != "session_id"]
    ).order_by(REC.session_id, REC.kind, REC.instance),
}


def batches(
    db: Session,
    selection: Selection,
    related: Sequence[str] = RELATED,
    batch_size: int = BATCH_SIZE,
) -> Iterator[list[SessionBundle]]:
    """Yield the selected sessions, ``batch_size`` at a time, in LSEQ order."""
    unknown = set(related) - set(RELATED)
    if unknown:
        raise ValueError(f"unknown related tables: {sorted(unknown)}")
    base = select(*S).where(selection.where()).order_by(S.id).limit(batch_size)
    last = 0
    while True:
        rows = _records(db.execute(base.where(S.id > last)))
        if not rows:
            return
        ids = [row.id for row in rows]
        groups = {
            # Events stay rows: the session report unpacks them by position.
            name: _grouped(db, _RELATED_QUERIES[name], ids, name != "events")
            for name in related
        }
        bundles = []
        for row in rows:
            bundle = SessionBundle(row)
            for name, group in groups.items():
                setattr(bundle, name, group.get(row.id, []))
            bundles.append(bundle)
        yield bundles
        if len(rows) < batch_size:
            return
        last = ids[-1]
