"""Support teams, their members and roles, and the issues they own."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.directory import teams, users
from supportbox.web.admin.forms import attempt, done, note, show, text
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login


@page("admin")
def team_list(request: Request, login: Login, form: FormData, db: Session) -> Response:
    error = ""
    if request.method == "POST":
        name = text(form, "name", 100)
        error = attempt(
            db,
            lambda: teams.create(
                db,
                name,
                text(form, "code_name", 100),
                text(form, "comments", 2000),
                text(form, "routing", 20) or "none",
            ),
        )
        if not error:
            team = teams.get(db, name)
            note(db, request, login, "team.create", team=team.code_name)
            return done(f"/admin/teams/{team.id}", f"Team {name} was created.")
    return show(
        request,
        login,
        "teams.html",
        "teams",
        teams=teams.list_all(db),
        routings=teams.ROUTINGS,
        error=error,
    )


def _team_change(
    request: Request, login: Login, form: FormData, db: Session, team_id: int
) -> tuple[str, str]:
    what = text(form, "do")
    code = teams.get(db, team_id).code_name
    if what == "update":
        error = attempt(
            db,
            lambda: teams.update(
                db,
                team_id,
                name=text(form, "name", 100),
                comments=text(form, "comments", 2000),
                routing=text(form, "routing", 20),
            ),
        )
        action, message = "team.update", "Team saved."
    elif what == "member":
        username, role = text(form, "username", 100), text(form, "role", 20)
        error = attempt(db, lambda: teams.set_member(db, team_id, username, role))
        action, message = "team.member_set", f"{username} is now a {role}."
    elif what == "remove":
        username = text(form, "username", 100)
        error = attempt(db, lambda: teams.remove_member(db, team_id, username))
        action, message = "team.member_removed", f"{username} left the team."
    elif what == "delete":
        error = attempt(db, lambda: teams.delete(db, team_id))
        action, message = "team.delete", "Team deleted."
    else:
        return "unknown change", ""
    if not error:
        detail = {k: text(form, k, 100) for k in ("username", "role") if k in form}
        note(db, request, login, action, team=code, **detail)
    return error, message


@page("admin")
def team_page(request: Request, login: Login, form: FormData, db: Session) -> Response:
    team_id = int(request.path_params["team_id"])
    team = teams.get(db, team_id)
    error = ""
    if request.method == "POST":
        error, message = _team_change(request, login, form, db, team_id)
        if not error:
            if text(form, "do") == "delete":
                return done("/admin/teams", message)
            return done(f"/admin/teams/{team_id}", message)
    member_ids = {m.user_id for m in team.members}
    return show(
        request,
        login,
        "team.html",
        "teams",
        team=team,
        members=sorted(team.members, key=lambda m: m.user.username),
        candidates=[u for u in users.list_all(db) if u.id not in member_ids],
        roles=teams.ROLES,
        routings=teams.ROUTINGS,
        error=error,
    )


@page("admin")
def issue_list(request: Request, login: Login, form: FormData, db: Session) -> Response:
    error = ""
    if request.method == "POST":
        what = text(form, "do")
        code = text(form, "code_name", 100)
        if what == "create":
            error = attempt(
                db,
                lambda: teams.create_issue(
                    db, code, text(form, "display_name", 100), text(form, "team", 20)
                ),
            )
        elif what == "update":
            error = attempt(
                db,
                lambda: teams.update_issue(
                    db,
                    code,
                    display_name=text(form, "display_name", 100),
                    team_ref=text(form, "team", 20),
                ),
            )
        elif what == "delete":
            error = attempt(db, lambda: teams.delete_issue(db, code))
        else:
            error = "unknown change"
        if not error:
            note(db, request, login, f"issue.{what}", issue=code)
            return done("/admin/issues", f"Issue {code}: {what} done.")
    return show(
        request,
        login,
        "issues.html",
        "issues",
        issues=teams.list_issues(db),
        teams=teams.list_all(db),
        error=error,
    )


routes = [
    Route("/admin/teams", team_list, methods=["GET", "POST"]),
    Route("/admin/teams/{team_id:int}", team_page, methods=["GET", "POST"]),
    Route("/admin/issues", issue_list, methods=["GET", "POST"]),
]
