"""SupportCustExitSurvey and SupportRepExitSurvey (spec 5.8)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from supportbox.api.reporting import query
from supportbox.api.reporting.context import Builder, ReportContext, Stream
from supportbox.api.reporting.format import unix
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput
from supportbox.storage.models import Issue, SurveyQuestion
from supportbox.xml.writer import E, close_root, open_root, render

REPORT_TYPES = ("rep", "team", "site")


class QuestionBook:
    """The survey questions, read once per report run."""

    def __init__(self, db: Session) -> None:
        query_ = select(SurveyQuestion).order_by(
            SurveyQuestion.position, SurveyQuestion.id
        )
        self.questions: dict[str, list[SurveyQuestion]] = {"customer": [], "rep": []}
        for question in db.scalars(query_):
            self.questions.setdefault(question.survey, []).append(question)

    def answers(
        self, survey: str, stored: dict[str, Any]
    ) -> Iterator[tuple[SurveyQuestion | None, str, list[str]]]:
        """``(question, name, answers)`` in question order, then the rest."""
        known = self.questions.get(survey, [])
        for question in known:
            if question.name in stored:
                yield question, question.name, _as_list(stored[question.name])
        names = {q.name for q in known}
        for name in sorted(set(stored) - names):
            yield None, name, _as_list(stored[name])

    def values(self, survey: str, stored: dict[str, Any]) -> Iterator[tuple[str, str]]:
        """``(name, value)`` pairs; a multi-choice answer gives several."""
        for _question, name, answers in self.answers(survey, stored):
            for answer in answers:
                yield name, answer


def _as_list(value: Any) -> list[str]:
    # Newlines inside answers are written escaped, as the appliance does.
    values = value if isinstance(value, list) else [value]
    return [str(v).replace("\r\n", "\n").replace("\n", "\\n") for v in values]


def _team_of_session() -> ColumnElement[Any]:
    S = query.S
    issue_team = select(Issue.team_id).where(Issue.id == S.issue_id).scalar_subquery()
    return issue_team


def _scope_filter(ctx: ReportContext, survey: str) -> ColumnElement[bool] | None:
    report_type = ctx.param("report_type") or "rep"
    if report_type not in REPORT_TYPES:
        raise InvalidInput(
            f"Invalid report_type: {report_type[:40]!r}; expected rep, team or site."
        )
    raw = ctx.param("id") or "all"
    if raw == "all":
        return None
    if not is_id(raw) or int(raw) == 0:
        raise InvalidInput(f"Invalid id: {raw[:40]!r}; expected a number or all.")
    ident = int(raw)
    S, P, SR = query.S, query.P, query.SR
    if report_type == "site":
        return S.public_site_id == ident
    if report_type == "team":
        by_queue = (S.queue_kind == "team") & (S.queue_ref == ident)
        return or_(by_queue, _team_of_session() == ident)
    rep_in_session = exists().where(
        (P.session_id == S.id) & (P.kind == "representative") & (P.user_id == ident)
    )
    if survey == "customer":
        return rep_in_session
    by_rep = exists().where(
        (SR.session_id == S.id)
        & (SR.survey == "rep")
        & exists().where(
            (P.session_id == S.id) & (P.gsnumber == SR.gsnumber) & (P.user_id == ident)
        )
    )
    return by_rep


def exit_survey_report(survey: str) -> Builder:
    """The report function for the ``customer`` or ``rep`` survey."""

    def build(ctx: ReportContext) -> Stream:
        lsids = ctx.lsids()
        window = None if lsids is not None else ctx.window()
        has_survey = exists().where(
            (query.SR.session_id == query.S.id) & (query.SR.survey == survey)
        )
        filters: list[ColumnElement[bool]] = [has_survey]
        scope = _scope_filter(ctx, survey)
        if scope is not None:
            filters.append(scope)
        chosen = query.Selection(window, lsids, tuple(filters))
        rep_id = None
        if survey == "rep" and ctx.param("report_type") in ("", "rep"):
            raw = ctx.param("id")
            rep_id = int(raw) if is_id(raw) else None
        return Stream(_surveys(ctx, chosen, survey, rep_id))

    return build


def _surveys(
    ctx: ReportContext, chosen: query.Selection, survey: str, rep_id: int | None
) -> Iterator[str]:
    book = QuestionBook(ctx.db)
    yield open_root("exit_survey_list", ctx.namespace)
    related = ("participants", "surveys")
    for batch in query.batches(ctx.db, chosen, related=related):
        parts = []
        for bundle in batch:
            people = {p.gsnumber: p for p in bundle.participants}
            for response in bundle.surveys:
                if response.survey != survey:
                    continue
                who = people.get(response.gsnumber)
                if rep_id is not None and (who is None or who.user_id != rep_id):
                    continue
                element = exit_survey(bundle, response, who, book)
                parts.append(render(element))
        yield "".join(parts)
    yield close_root("exit_survey_list")


def exit_survey(
    bundle: query.SessionBundle, response: Any, who: Any, book: QuestionBook
) -> E:
    row = bundle.session
    element = E(
        "exit_survey",
        None,
        {"lsid": row.lsid, "timestamp": unix(response.submitted_at)},
    )
    kind = "customer" if response.survey == "customer" else "rep"
    element.add(
        "submitted_by", who.name if who else "", type=kind, gsnumber=response.gsnumber
    )
    element.add("external_key", row.external_key or "")
    customers = [p for p in bundle.participants if p.kind == "customer"]
    reps = [p for p in bundle.participants if p.kind == "representative"]
    first = next(
        (p for p in customers if p.is_primary), customers[0] if customers else None
    )
    element.add(
        "primary_customer",
        first.name if first else "",
        gsnumber=first.gsnumber if first else 0,
    )
    lead = next((p for p in reps if p.is_primary), None)
    if lead is not None:
        element.add(
            "primary_rep", lead.name, gsnumber=lead.gsnumber, id=lead.user_id or 0
        )
    rep_list = element.add("rep_list")
    for rep in reps:
        item = rep_list.add(
            "representative", gsnumber=rep.gsnumber, id=rep.user_id or 0
        )
        item.add("username", rep.username)
        item.add("display_name", rep.name)
    questions = element.add("question_list")
    for question, name, answers in book.answers(
        response.survey, response.answers or {}
    ):
        item = questions.add("question", id=question.id if question else 0)
        item.add("name", name)
        item.add("type", question.type if question else "text")
        item.add("label", question.label if question else name)
        item.add("report_header", question.report_header if question else name)
        answer_list = item.add("answer_list")
        for answer in answers:
            answer_list.add("answer", answer)
    return element
