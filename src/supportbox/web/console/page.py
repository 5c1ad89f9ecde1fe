"""The console page itself; everything live happens in console.js."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from supportbox.web import assets
from supportbox.web.pages import render
from supportbox.web.security.guard import page
from supportbox.web.security.store import Login


@page("support")
def console_page(
    request: Request, login: Login, form: FormData, db: Session
) -> Response:
    return render(
        request,
        "console/console.html",
        login=login,
        section="console",
        terminal=assets.vendored("xterm"),
    )


routes = [Route("/console", console_page)]
