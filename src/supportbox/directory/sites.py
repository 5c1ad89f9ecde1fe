"""Public sites, custom fields and exit-survey questions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.directory import validate
from supportbox.errors import Conflict, InvalidInput, NotFound
from supportbox.storage.models import CustomField, PublicSite, SurveyQuestion

QUESTION_TYPES = ("radio", "text", "textarea", "checkbox", "select")


def create_site(
    db: Session, name: str, hostnames: list[str], default: bool = False
) -> PublicSite:
    name = validate.name(name, "site name")
    if db.scalar(select(PublicSite.id).where(PublicSite.name == name)) is not None:
        raise Conflict(f"a public site named {name!r} exists")
    site = PublicSite(
        name=name, hostnames=[h.lower() for h in hostnames], is_default=default
    )
    db.add(site)
    db.flush()
    return site


def site_for_host(db: Session, host: str) -> PublicSite | None:
    """The site serving ``host`` (port ignored), else the default site."""
    hostname = host.rsplit(":", 1)[0].strip("[]").lower() if host else ""
    sites = list(db.scalars(select(PublicSite).order_by(PublicSite.id)))
    for site in sites:
        if hostname and hostname in site.hostnames:
            return site
    for site in sites:
        if site.is_default:
            return site
    return sites[0] if sites else None


def get_site(db: Session, site_id: int) -> PublicSite:
    site = db.get(PublicSite, site_id)
    if site is None:
        raise NotFound(f"no public site with id {site_id}")
    return site


def create_custom_field(db: Session, code_name: str, display_name: str) -> CustomField:
    code = validate.code_name(code_name, "custom field code name")
    if code == "external_key":
        raise Conflict("external_key is built in")
    clash = select(CustomField.id).where(CustomField.code_name == code)
    if db.scalar(clash) is not None:
        raise Conflict(f"custom field {code!r} exists")
    field = CustomField(
        code_name=code, display_name=validate.name(display_name, "display name")
    )
    db.add(field)
    db.flush()
    return field


def custom_fields(db: Session) -> list[CustomField]:
    return list(db.scalars(select(CustomField).order_by(CustomField.id)))


def create_question(
    db: Session,
    survey: str,
    name: str,
    type_: str,
    label: str,
    report_header: str = "",
    options: list[Any] | None = None,
) -> SurveyQuestion:
    if survey not in {"customer", "rep"}:
        raise InvalidInput(f"survey {survey!r} is not customer or rep")
    if type_ not in QUESTION_TYPES:
        raise InvalidInput(f"question type {type_!r} is not one of {QUESTION_TYPES}")
    code = validate.code_name(name, "question name")
    position = len(questions(db, survey))
    question = SurveyQuestion(
        survey=survey,
        name=code,
        type=type_,
        label=validate.name(label, "question label", 1000),
        report_header=report_header or label,
        options=options or [],
        position=position,
    )
    db.add(question)
    db.flush()
    return question


def questions(db: Session, survey: str) -> list[SurveyQuestion]:
    query = (
        select(SurveyQuestion)
        .where(SurveyQuestion.survey == survey)
        .order_by(SurveyQuestion.position, SurveyQuestion.id)
    )
    return list(db.scalars(query))


def list_sites(db: Session) -> list[PublicSite]:
    return list(db.scalars(select(PublicSite).order_by(PublicSite.id)))


def update_site(
    db: Session,
    site_id: int,
    *,
    hostnames: list[str] | None = None,
    default: bool | None = None,
    show_reps: bool | None = None,
) -> PublicSite:
    """Change a site; making it the default takes that from the others."""
    site = get_site(db, site_id)
    if hostnames is not None:
        site.hostnames = [validate.name(h, "hostname", 255).lower() for h in hostnames]
    if default:
        for other in list_sites(db):
            other.is_default = other.id == site.id
    elif default is not None:
        site.is_default = False
    if show_reps is not None:
        site.show_reps_in_issue_menu = show_reps
    db.flush()
    return site


def delete_custom_field(db: Session, code_name: str) -> None:
    field = db.scalar(select(CustomField).where(CustomField.code_name == code_name))
    if field is None:
        raise NotFound(f"no custom field {code_name!r}")
    db.delete(field)
    db.flush()


def set_custom_field_shown(db: Session, code_name: str, shown: bool) -> None:
    field = db.scalar(select(CustomField).where(CustomField.code_name == code_name))
    if field is None:
        raise NotFound(f"no custom field {code_name!r}")
    field.show_in_console = shown
    db.flush()


def delete_question(db: Session, question_id: int) -> SurveyQuestion:
    question = db.get(SurveyQuestion, question_id)
    if question is None:
        raise NotFound(f"no survey question with id {question_id}")
    db.delete(question)
    db.flush()
    return question
