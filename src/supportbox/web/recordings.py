"""Viewing and downloading recordings through signed links.

``/recordings/view`` shows a page that plays the recording with
asciinema-player (served by :mod:`supportbox.web.assets` under
``/vendor/asciinema-player``); the player fetches the file from
``/recordings/play``. ``/recordings/download`` returns the file as an
attachment. Each use writes a ``recording_access`` row.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from supportbox.auth import links as auth_links
from supportbox.errors import NotFound, PermissionDenied
from supportbox.recording import access, links, store
from supportbox.runtime import Runtime
from supportbox.web import assets

PLAYER = "asciinema-player"
ASSETS = f"/vendor/{PLAYER}"
CAST_TYPE = "application/x-asciicast"

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("supportbox.web", "templates"),
    autoescape=True,
)


@dataclass(frozen=True)
class Found:
    recording_id: int
    lsid: str
    instance: int
    started_at: float
    file: Path
    audience: str


def _find(runtime: Runtime, token: str, purpose: str) -> Found:
    claims = auth_links.signer(runtime).verify(token, purpose)
    lsid, kind, instance = links.parse_subject(claims.subject)
    if kind != store.SHELL:
        raise NotFound(f"there are no {kind} recordings")
    with runtime.db() as db:
        row = store.shell_recording(db, lsid, instance)
        if row is None:
            raise NotFound("the recording does not exist")
        return Found(
            row.id,
            lsid,
            instance,
            row.started_at,
            store.absolute(runtime.settings, row),
            claims.audience,
        )


def _note(runtime: Runtime, found: Found, action: str, request: Request) -> None:
    with runtime.write_db() as db, db.begin():
        access.note(
            db,
            found.recording_id,
            action,
            found.audience,
            client_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
        )


async def _open(request: Request, purpose: str, action: str) -> Found | Response:
    runtime: Runtime = request.app.state.runtime
    token = request.query_params.get("t", "")

    def work() -> Found:
        found = _find(runtime, token, purpose)
        if not found.file.is_file():
            raise NotFound("the recording file is missing")
        _note(runtime, found, action, request)
        return found

    try:
        return await asyncio.to_thread(work)
    except PermissionDenied as exc:
        return PlainTextResponse(f"{exc}\n", status_code=403)
    except NotFound as exc:
        return PlainTextResponse(f"{exc}\n", status_code=404)
    except ValueError:
        return PlainTextResponse("the link is not valid\n", status_code=403)


async def view(request: Request) -> Response:
    found = await _open(request, links.VIEW, access.VIEW)
    if isinstance(found, Response):
        return found
    token = request.query_params["t"]
    runtime: Runtime = request.app.state.runtime
    download = auth_links.signer(runtime).issue(
        links.DOWNLOAD,
        links.subject(found.lsid, "shell", found.instance),
        found.audience,
        runtime.settings.recording_link_lifetime,
    )
    page = _templates.get_template("recording_view.html").render(
        title=f"Session {found.lsid}, shell {found.instance}",
        started=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(found.started_at)),
        assets=ASSETS,
        player=assets.vendored(PLAYER),
        play_url=f"{links.PLAY_PATH}?{urlencode({'t': token})}",
        download_url=f"{links.DOWNLOAD_PATH}?{urlencode({'t': download})}",
        # Only the player, for the frame on the admin session page.
        embed=request.query_params.get("embed") == "1",
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def play(request: Request) -> Response:
    found = await _open(request, links.VIEW, access.PLAY)
    if isinstance(found, Response):
        return found
    return FileResponse(
        found.file, media_type=CAST_TYPE, headers={"Cache-Control": "no-store"}
    )


async def download(request: Request) -> Response:
    found = await _open(request, links.DOWNLOAD, access.DOWNLOAD)
    if isinstance(found, Response):
        return found
    return FileResponse(
        found.file,
        media_type=CAST_TYPE,
        filename=f"{found.lsid}-shell-{found.instance}.cast",
        headers={"Cache-Control": "no-store"},
    )


routes: list[BaseRoute] = [
    Route(links.VIEW_PATH, view),
    Route(links.PLAY_PATH, play),
    Route(links.DOWNLOAD_PATH, download),
]
