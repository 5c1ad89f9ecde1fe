"""Reading admin forms and answering them: fields, savepoints, redirects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from supportbox.auth import audit
from supportbox.directory.validate import is_id
from supportbox.errors import Conflict, InvalidInput, NotFound, SupportboxError
from supportbox.web.pages import render
from supportbox.web.security.guard import client_ip
from supportbox.web.security.store import Login


def text(form: FormData, name: str, limit: int = 10_000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def flag(form: FormData, name: str) -> bool:
    return form.get(name) in {"1", "on", "true", "yes"}


def number(value: str) -> int | None:
    return int(value) if is_id(value) else None


def attempt(db: Session, change: Callable[[], Any]) -> str:
    """Run ``change`` in a savepoint; returns its error message, or ''."""
    try:
        with db.begin_nested():
            change()
    except (InvalidInput, Conflict, NotFound) as exc:
        return str(exc)
    except SupportboxError as exc:
        return str(exc)
    return ""


def done(path: str, message: str) -> Response:
    """Back to ``path`` after a change, saying what happened."""
    separator = "&" if "?" in path else "?"
    return RedirectResponse(
        f"{path}{separator}{urlencode({'ok': message})}", status_code=303
    )


def note(
    db: Session, request: Request, login: Login, action: str, **detail: Any
) -> None:
    """Write the audit row of an administrative change."""
    audit.record(db, action, login.username, client_ip=client_ip(request), **detail)


def show(
    request: Request,
    login: Login,
    template: str,
    active: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """An admin page with its sidebar; ``?ok=`` becomes a confirmation line."""
    context.setdefault("message", request.query_params.get("ok", "")[:300])
    context.setdefault("error", "")
    return render(
        request,
        f"admin/{template}",
        400 if context["error"] and status_code == 200 else status_code,
        login=login,
        section="admin",
        active=active,
        **context,
    )
