"""The public site: the front page, key URLs, the chat page, its files.

The site serving a request is chosen by its Host header
(:func:`supportbox.directory.sites.site_for_host`). Its forms post to
``/api/start_session`` (:mod:`.start`), which creates the session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from supportbox.core.hub import Hub
from supportbox.directory import sites, teams
from supportbox.errors import NotFound
from supportbox.runtime import Runtime
from supportbox.storage import sessions as store
from supportbox.web.public import pages
from supportbox.web.public.params import locale_code
from supportbox.web.public.start import start_from_fields


@dataclass(frozen=True)
class MenuEntry:
    """One choice of the issue menu: an issue, or a rep when the site says so."""

    id: int
    label: str


async def front_page(request: Request) -> Response:
    """``/``: the issue form, the key box and the representative list.

    ``/?ak=<32 hex>`` (a key URL, spec 3.4) starts the session as if the key
    had been typed into this site's key box.
    """
    if "ak" in request.query_params:
        return await start_from_fields(request, dict(request.query_params))
    runtime: Runtime = request.app.state.runtime
    context = await asyncio.to_thread(_front_context, runtime, request)
    return pages.render("index.html", **context)


def _front_context(runtime: Runtime, request: Request) -> dict[str, Any]:
    hub: Hub = runtime.services["hub"]
    reps = [r for r in hub.logged_in_reps() if r.showing_on_rep_list]
    with runtime.db() as db:
        site = sites.site_for_host(db, request.headers.get("host", ""))
        reps_in_menu = bool(site and site.show_reps_in_issue_menu)
        if reps_in_menu:
            menu = [MenuEntry(r.user_id, r.public_display_name) for r in reps]
        else:
            menu = [MenuEntry(i.id, i.display_name) for i in teams.list_issues(db)]
        fields = [(f.code_name, f.display_name) for f in sites.custom_fields(db)]
        return {
            "site_name": site.name if site else runtime.settings.company_name,
            "menu": menu,
            "reps_in_menu": reps_in_menu,
            "custom_fields": fields,
            "reps": reps,
        }


async def chat_page(request: Request) -> Response:
    """``/chat/<lsid>``: the browser client of a click-to-chat session.

    The page holds no secret: the join token arrives in the URL fragment
    (see :mod:`.start`) and the script keeps it in the tab's storage.
    """
    runtime: Runtime = request.app.state.runtime
    lsid = request.path_params["lsid"]
    try:
        context = await asyncio.to_thread(_chat_context, runtime, request, lsid)
    except NotFound:
        site_name = await asyncio.to_thread(_site_name, runtime, request)
        return pages.error(
            site_name,
            404,
            "We could not find that",
            "this support session does not exist; start a new one from the front page",
        )
    return pages.render("chat.html", **context)


def _chat_context(runtime: Runtime, request: Request, lsid: str) -> dict[str, Any]:
    with runtime.db() as db:
        row = store.get(db, lsid)
        site = sites.site_for_host(db, request.headers.get("host", ""))
        return {
            "site_name": site.name if site else runtime.settings.company_name,
            "lsid": row.lsid,
            "locale": locale_code(request.query_params.get("locale", "")) or "en",
        }


def _site_name(runtime: Runtime, request: Request) -> str:
    with runtime.db() as db:
        site = sites.site_for_host(db, request.headers.get("host", ""))
        return site.name if site else runtime.settings.company_name


async def stylesheet(_request: Request) -> Response:
    return pages.static("public.css", "text/css; charset=utf-8")


async def chat_script(_request: Request) -> Response:
    return pages.static("chat.js", "text/javascript; charset=utf-8")


async def starter_script(_request: Request) -> Response:
    """``/api/start_session.js``: ``BG.setSite`` and ``BG.start`` (spec 3.5).

    Served to pages of other origins, so it allows any origin to fetch it.
    """
    response = pages.static("start_session.js", "text/javascript; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    del response.headers["Content-Security-Policy"]
    return response
