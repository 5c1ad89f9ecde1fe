"""The administrator's start page and the audit log."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from supportbox.storage.models import (
    AuditEvent,
    RepPresence,
    SupportSession,
    Team,
    User,
)
from supportbox.web.admin.forms import number, show
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login

AUDIT_PAGE = 50


def _count(db: Session, *conditions: object) -> int:
    stmt = select(func.count(SupportSession.id)).where(*conditions)  # type: ignore[arg-type]
    return int(db.scalar(stmt) or 0)


@page("reports")
def dashboard(request: Request, login: Login, form: FormData, db: Session) -> Response:
    if not login.perm_admin:
        return RedirectResponse("/admin/sessions", status_code=303)
    day_ago = time.time() - 86400
    online = db.execute(
        select(User, RepPresence).join(RepPresence, RepPresence.user_id == User.id)
    ).all()
    recent = list(
        db.scalars(
            select(SupportSession).order_by(SupportSession.start_time.desc()).limit(8)
        )
    )
    audit = list(db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(8)))
    return show(
        request,
        login,
        "dashboard.html",
        "dashboard",
        waiting=_count(db, SupportSession.status == "waiting"),
        in_progress=_count(db, SupportSession.status == "active"),
        today=_count(db, SupportSession.start_time >= day_ago),
        users=int(db.scalar(select(func.count(User.id))) or 0),
        teams=int(db.scalar(select(func.count(Team.id))) or 0),
        online=online,
        recent=recent,
        audit=audit,
    )


@page("admin")
def audit_log(request: Request, login: Login, form: FormData, db: Session) -> Response:
    params = request.query_params
    before = number(params.get("before", ""))
    actor = params.get("actor", "").strip()[:200]
    action = params.get("action", "").strip()[:64]
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    rows = list(db.scalars(stmt))
    return show(
        request,
        login,
        "audit.html",
        "audit",
        rows=rows,
        actor=actor,
        action=action,
        more=rows[-1].id if len(rows) == AUDIT_PAGE else None,
    )


routes = [
    Route("/admin", dashboard),
    Route("/admin/audit", audit_log),
]
