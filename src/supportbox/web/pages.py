"""Server-rendered pages: one Jinja2 environment and the error page.

Templates live in ``web/templates`` and extend ``layout.html``; every
value is escaped unless a template says otherwise.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"


def _when(value: float | None) -> str:
    """A Unix time as ``2024-05-01 14:03:22 UTC``; empty for none."""
    if value is None:
        return ""
    moment = dt.datetime.fromtimestamp(value, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when
environment.filters["duration"] = _duration


def render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The named template filled with ``context`` (plus the request)."""
    page = environment.get_template(template)
    html = page.render(request=request, **context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def error_page(
    request: Request, status_code: int, title: str, message: str
) -> HTMLResponse:
    return render(
        request, "error.html", status_code, title=title, message=message, login=None
    )
