"""Users: representatives and administrators."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.directory import users
from supportbox.web.admin.forms import attempt, done, flag, note, show, text
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login

PERMISSION_LABELS = {
    "perm_support": "Provides support (console)",
    "perm_admin": "Administrator",
    "perm_reports": "Views reports",
    "perm_api": "Uses the APIs",
}


@page("admin")
def user_list(request: Request, login: Login, form: FormData, db: Session) -> Response:
    error = ""
    if request.method == "POST":
        username = text(form, "username", 100)
        perms = {p: flag(form, p) for p in PERMISSION_LABELS}

        def create() -> None:
            users.create(
                db,
                username,
                str(form.get("password") or ""),
                display_name=text(form, "display_name", 100),
                private_display_name=text(form, "private_display_name", 100),
                admin=perms["perm_admin"],
                support=perms["perm_support"],
                reports=perms["perm_reports"],
                api=perms["perm_api"],
            )

        error = attempt(db, create)
        if not error:
            note(db, request, login, "user.create", username=username, **perms)
            return done("/admin/users", f"User {username} was created.")
    return show(
        request,
        login,
        "users.html",
        "users",
        users=users.list_all(db),
        labels=PERMISSION_LABELS,
        error=error,
        form=form,
    )


def _change(
    request: Request, login: Login, form: FormData, db: Session, username: str
) -> tuple[str, str]:
    """Apply one edit form; returns (error, confirmation)."""
    what = text(form, "do")
    if what == "profile":
        perms = {p: flag(form, p) for p in PERMISSION_LABELS}
        if username == login.username and not perms["perm_admin"]:
            return "you cannot take administration away from yourself", ""
        error = attempt(
            db,
            lambda: users.update(
                db,
                username,
                display_name=text(form, "display_name", 100),
                private_display_name=text(form, "private_display_name", 100),
                permissions=perms,
            ),
        )
        return error, "" if error else _noted(
            db, request, login, "user.update", username, "Changes saved.", **perms
        )
    if what == "password":
        password = str(form.get("password") or "")
        error = attempt(
            db,
            lambda: users.update(
                db, username, password=password, keep_session=login.session_hash
            ),
        )
        if error:
            return error, ""
        return "", _noted(
            db, request, login, "user.password_reset", username, "Password reset."
        )
    if what in {"disable", "enable"}:
        if username == login.username:
            return "you cannot disable your own account", ""
        users.update(db, username, enabled=what == "enable")
        return "", _noted(
            db, request, login, f"user.{what}", username, f"User {what}d."
        )
    if what == "clear_totp":
        users.get(db, username).totp_secret = None
        return "", _noted(
            db, request, login, "user.totp_cleared", username, "Two-step login off."
        )
    return "unknown change", ""


def _noted(
    db: Session,
    request: Request,
    login: Login,
    action: str,
    username: str,
    message: str,
    **detail: bool,
) -> str:
    note(db, request, login, action, username=username, **detail)
    return message


@page("admin")
def user_page(request: Request, login: Login, form: FormData, db: Session) -> Response:
    user = users.get_by_id(db, int(request.path_params["user_id"]))
    error = ""
    if request.method == "POST":
        error, message = _change(request, login, form, db, user.username)
        if not error:
            return done(f"/admin/users/{user.id}", message)
    return show(
        request,
        login,
        "user.html",
        "users",
        user=user,
        labels=PERMISSION_LABELS,
        error=error,
    )


routes = [
    Route("/admin/users", user_list, methods=["GET", "POST"]),
    Route("/admin/users/{user_id:int}", user_page, methods=["GET", "POST"]),
]
