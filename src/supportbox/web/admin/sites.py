"""Public sites, custom session fields and exit-survey questions."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.directory import sites
from supportbox.web.admin.forms import attempt, done, flag, note, number, show, text
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login


def _hostnames(form: FormData) -> list[str]:
    raw = text(form, "hostnames", 4000).replace(",", " ").split()
    return [h for h in raw if h]


@page("admin")
def site_list(request: Request, login: Login, form: FormData, db: Session) -> Response:
    error = ""
    if request.method == "POST":
        what = text(form, "do")
        if what == "create":
            name = text(form, "name", 100)
            error = attempt(
                db,
                lambda: sites.create_site(
                    db, name, _hostnames(form), default=flag(form, "default")
                ),
            )
            detail = {"site": name}
        else:
            site_id = number(text(form, "site_id")) or 0
            error = attempt(
                db,
                lambda: sites.update_site(
                    db,
                    site_id,
                    hostnames=_hostnames(form),
                    default=flag(form, "default"),
                    show_reps=flag(form, "show_reps"),
                ),
            )
            detail = {"site_id": str(site_id)}
        if not error:
            note(db, request, login, f"site.{what}", **detail)
            return done("/admin/sites", "Public site saved.")
    return show(
        request, login, "sites.html", "sites", sites=sites.list_sites(db), error=error
    )


@page("admin")
def field_list(request: Request, login: Login, form: FormData, db: Session) -> Response:
    error = ""
    if request.method == "POST":
        what, code = text(form, "do"), text(form, "code_name", 100)
        if what == "create":
            error = attempt(
                db,
                lambda: sites.create_custom_field(
                    db, code, text(form, "display_name", 100)
                ),
            )
        elif what == "delete":
            error = attempt(db, lambda: sites.delete_custom_field(db, code))
        else:
            shown = flag(form, "show_in_console")
            error = attempt(db, lambda: sites.set_custom_field_shown(db, code, shown))
        if not error:
            note(db, request, login, f"custom_field.{what}", field=code)
            return done("/admin/fields", f"Session field {code} saved.")
    return show(
        request,
        login,
        "fields.html",
        "fields",
        fields=sites.custom_fields(db),
        error=error,
    )


@page("admin")
def survey_list(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    error = ""
    if request.method == "POST":
        what = text(form, "do")
        if what == "create":
            options = [o.strip() for o in text(form, "options").split(",")]
            name = text(form, "name", 100)
            error = attempt(
                db,
                lambda: sites.create_question(
                    db,
                    text(form, "survey", 10),
                    name,
                    text(form, "type", 20),
                    text(form, "label", 1000),
                    text(form, "report_header", 100),
                    [o for o in options if o],
                ),
            )
            detail = {"question": name}
        else:
            question_id = number(text(form, "question_id")) or 0
            error = attempt(db, lambda: sites.delete_question(db, question_id))
            detail = {"question_id": str(question_id)}
        if not error:
            note(db, request, login, f"survey_question.{what}", **detail)
            return done("/admin/surveys", "Exit survey saved.")
    return show(
        request,
        login,
        "surveys.html",
        "surveys",
        surveys={
            "customer": sites.questions(db, "customer"),
            "rep": sites.questions(db, "rep"),
        },
        types=sites.QUESTION_TYPES,
        error=error,
    )


routes = [
    Route("/admin/sites", site_list, methods=["GET", "POST"]),
    Route("/admin/fields", field_list, methods=["GET", "POST"]),
    Route("/admin/surveys", survey_list, methods=["GET", "POST"]),
]
