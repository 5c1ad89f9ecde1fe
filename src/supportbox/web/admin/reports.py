"""Session reports: the search page and a session's page.

Shell recordings play through the signed view links of
:mod:`supportbox.recording.links`, screen recordings (MP4) in a
``<video>`` through the signed ``/session_download`` links of the
reports; both are handed out to the viewing user and audited when used.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.api.reporting.links import LinkMaker
from supportbox.auth.links import signer
from supportbox.core import events as ev
from supportbox.directory import teams, users
from supportbox.errors import InvalidInput
from supportbox.recording import links
from supportbox.runtime import Runtime
from supportbox.storage import sessions as store
from supportbox.storage.models import (
    Participant,
    Recording,
    SessionEvent,
    SupportSession,
    SurveyResponse,
)
from supportbox.web.admin.forms import number, show
from supportbox.web.admin.search import Criteria, find
from supportbox.web.security.guard import page, runtime_of
from supportbox.web.security.store import Login

SCREEN_KINDS = ("screen", "show_my_screen", "presentation")

FILE_EVENTS = {
    ev.FILE_UPLOAD,
    ev.FILE_UPLOAD_FAILED,
    ev.FILE_DOWNLOAD,
    ev.FILE_DOWNLOAD_FAILED,
}


def _criteria(request: Request) -> Criteria:
    params = request.query_params
    return Criteria(
        start=params.get("from", "").strip()[:10],
        end=params.get("to", "").strip()[:10],
        rep=number(params.get("rep", "")),
        team=number(params.get("team", "")),
        external_key=params.get("external_key", "").strip()[:1024],
        customer=params.get("customer", "").strip()[:100],
    )


def _customers(db: Session, rows: list[SupportSession]) -> dict[int, Participant]:
    if not rows:
        return {}
    found = db.scalars(
        select(Participant).where(
            Participant.session_id.in_([r.id for r in rows]),
            Participant.kind == "customer",
            Participant.is_primary.is_(True),
        )
    )
    return {p.session_id: p for p in found}


def _reps(db: Session, rows: list[SupportSession]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    if not rows:
        return names
    found = db.scalars(
        select(Participant)
        .where(
            Participant.session_id.in_([r.id for r in rows]),
            Participant.kind == "representative",
        )
        .order_by(Participant.gsnumber)
    )
    for p in found:
        listed = names.setdefault(p.session_id, [])
        if p.name not in listed:
            listed.append(p.name)
    return names


@page("reports")
def search(request: Request, login: Login, form: FormData, db: Session) -> Response:
    criteria = _criteria(request)
    error = ""
    try:
        rows = find(db, criteria)
    except InvalidInput as exc:
        rows, error = [], str(exc)
    return show(
        request,
        login,
        "sessions.html",
        "sessions",
        criteria=criteria,
        rows=rows,
        customers=_customers(db, rows),
        reps=_reps(db, rows),
        users=[u for u in users.list_all(db) if u.perm_support],
        teams=teams.list_all(db),
        error=error,
    )


@page("reports")
def session_page(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    row = store.get(db, request.path_params["lsid"])
    events = list(
        db.scalars(
            select(SessionEvent)
            .where(SessionEvent.session_id == row.id)
            .order_by(SessionEvent.seq)
        )
    )
    participants = list(
        db.scalars(
            select(Participant)
            .where(Participant.session_id == row.id)
            .order_by(Participant.gsnumber)
        )
    )
    surveys = list(
        db.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.session_id == row.id)
            .order_by(SurveyResponse.submitted_at)
        )
    )
    audience = f"web:{login.username}"
    runtime = runtime_of(request)
    recordings = list(
        db.scalars(
            select(Recording)
            .where(Recording.session_id == row.id)
            .order_by(Recording.started_at)
        )
    )
    return show(
        request,
        login,
        "session.html",
        "sessions",
        row=row,
        events=events,
        chat=[e for e in events if e.event_type == ev.CHAT_MESSAGE],
        notes=[e for e in events if e.event_type == ev.NOTE_ADDED],
        files=[e for e in events if e.event_type in FILE_EVENTS],
        participants=participants,
        customer=next((p for p in participants if p.kind == "customer"), None),
        surveys=surveys,
        recordings=[
            (r, links.shell_links(runtime, row.lsid, r.instance, audience))
            for r in recordings
            if r.kind == "shell"
        ],
        videos=_videos(runtime, row.lsid, recordings, audience),
    )


def _videos(
    runtime: Runtime, lsid: str, recordings: list[Recording], audience: str
) -> list[tuple[Recording, tuple[str, str]]]:
    """Closed screen recordings with their ``(view, download)`` links."""
    settings = runtime.settings
    maker = LinkMaker(
        signer(runtime),
        settings.base_url,
        settings.recording_link_lifetime,
        time.time(),
        audience,
    )
    return [
        (r, maker.urls(lsid, r.kind, r.instance))
        for r in recordings
        if r.kind in SCREEN_KINDS and r.sha256 is not None
    ]


routes = [
    Route("/admin/sessions", search),
    Route("/admin/sessions/{lsid}", session_page),
]
