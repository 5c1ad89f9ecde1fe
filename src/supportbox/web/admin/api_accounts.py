"""API accounts: OAuth2 clients of the integration APIs.

A new or regenerated secret is shown once, on the answer to the POST that
made it, and never stored in a form we can show again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.directory import api_accounts
from supportbox.web.admin.forms import attempt, done, flag, note, show, text
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login

LABELS = {
    "perm_reporting_support": "Reporting: support sessions",
    "perm_reporting_presentation": "Reporting: presentations",
    "perm_reporting_license": "Reporting: license usage",
    "perm_reporting_archive": "Reporting: archive",
    "perm_real_time_state": "Real-time state",
    "perm_ecm": "Endpoint credential manager",
    "perm_backup": "Backup",
    "perm_scim": "SCIM provisioning",
}
COMMAND_LABELS = {
    "full_access": "Full access",
    "read_only": "Read only",
    "deny": "No access",
}


def _granted(form: FormData) -> set[str]:
    return {perm for perm in LABELS if flag(form, perm)}


def _change(
    request: Request, login: Login, form: FormData, db: Session
) -> tuple[str, str, str]:
    """Apply one form; returns (error, message, secret to show once)."""
    what, ref = text(form, "do"), text(form, "account", 100)
    secret = ""
    if what == "create":
        name = text(form, "name", 100)

        def create() -> None:
            nonlocal secret
            account, secret = api_accounts.create(db, name)
            api_accounts.set_permissions(
                db, account.client_id, text(form, "command", 20), _granted(form)
            )

        error = attempt(db, create)
        ref = name
        message = f"API account {name} was created."
    elif what == "permissions":
        error = attempt(
            db,
            lambda: api_accounts.set_permissions(
                db, ref, text(form, "command", 20), _granted(form)
            ),
        )
        message = "Permissions saved."
    elif what == "regenerate":

        def regenerate() -> None:
            nonlocal secret
            _account, secret = api_accounts.regenerate_secret(db, ref)

        error = attempt(db, regenerate)
        message = "A new secret was made; the old one and its tokens stop working."
    elif what in {"enable", "disable"}:
        error = attempt(db, lambda: api_accounts.set_enabled(db, ref, what == "enable"))
        message = f"API account {what}d."
    else:
        return "unknown change", "", ""
    if not error:
        note(db, request, login, f"api_account.{what}", account=ref)
    return error, message, secret


@page("admin")
def account_list(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    error = message = secret = ""
    shown = None
    if request.method == "POST":
        error, message, secret = _change(request, login, form, db)
        if not error and not secret:
            return done("/admin/api-accounts", message)
        if secret:
            shown = api_accounts.get(
                db, text(form, "account", 100) or text(form, "name")
            )
    return show(
        request,
        login,
        "api_accounts.html",
        "api",
        accounts=api_accounts.list_all(db),
        labels=LABELS,
        command_labels=COMMAND_LABELS,
        secret=secret,
        shown=shown,
        error=error,
        message=message if secret else request.query_params.get("ok", ""),
    )


routes = [Route("/admin/api-accounts", account_list, methods=["GET", "POST"])]
