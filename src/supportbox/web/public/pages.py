"""Rendering the public site's pages and its friendly error page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

WEB = Path(__file__).resolve().parent.parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _sentence(text: str) -> str:
    """``text`` with its first letter upper-case, the rest as it was."""
    return text[:1].upper() + text[1:]


_env.filters["sentence"] = _sentence

#: Pages load scripts and styles from this server only; nothing inline.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def render(
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``public/<template>`` rendered into an HTML response."""
    html = _env.get_template(f"public/{template}").render(**context)
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )


def error(
    site_name: str,
    status_code: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page in the site's look that says what went wrong and what to do."""
    return render(
        "error.html",
        status_code,
        headers,
        site_name=site_name,
        title=title,
        message=message,
    )


def static(name: str, media_type: str) -> Response:
    """A file of ``web/static`` served as is, cacheable for an hour."""
    return Response(
        (STATIC / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", **SECURITY_HEADERS},
    )
