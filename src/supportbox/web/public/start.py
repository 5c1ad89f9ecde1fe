"""``/api/start_session``: from a public-site request to a waiting session.

Spec 3.2: GET, POST (urlencoded, or multipart as some old clients send)
and HEAD, under ``/api/start_session``, ``/api/start_session.ns`` and the
oldest ``/download_customer_connector.ns``. A valid request creates the
session and answers with what the customer client needs:

* the launcher script as a download (the default);
* ``client=cli``: JSON ``{"server", "lsid", "token"}`` for
  ``supportbox customer --key``;
* ``c2cjs=1``: a redirect to the browser chat page, the join token in the
  URL fragment so that it never reaches a server log.

HEAD checks the request and answers with the same headers but creates no
session. ``popup=1`` is accepted and ignored. Public forms are anonymous:
no logged-in user's authority is used here, so there is nothing for a
cross-site request to forge and no CSRF token is asked for; session-key
guessing is what needs guarding: wrong keys are counted per client
address, and past ``key_guess_limit`` in ten minutes every key request
from that address is refused for a while (HTTP 429).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from supportbox import peers
from supportbox.api.params import body_pairs
from supportbox.auth.ratelimit import Limiter
from supportbox.core import keys
from supportbox.core.hub import CustomerInfo, Hub, OpenedSession, SessionRequest
from supportbox.directory import sites
from supportbox.errors import (
    InvalidInput,
    NotFound,
    RateLimited,
    SessionStateError,
    SupportboxError,
)
from supportbox.logs import session_log
from supportbox.runtime import Runtime
from supportbox.storage.models import PublicSite
from supportbox.web.public import launcher, pages
from supportbox.web.public.params import KEY, StartParams, merge, parse
from supportbox.web.public.targets import KEY_NOT_VALID, Target, key_target, resolve

#: Shapes of the lsid and token, for the exact Content-Length of a HEAD.
_SAMPLE_LSID = "0" * 32
_SAMPLE_TOKEN = "0" * 40


@dataclass(frozen=True)
class Context:
    """What one request knows about where it arrived."""

    runtime: Runtime
    site_id: int | None
    site_name: str
    show_reps_in_issue_menu: bool
    custom_codes: frozenset[str]
    address: str
    cli: bool


async def start_session(request: Request) -> Response:
    try:
        # The same reader and 1 MB limit as the XML APIs (api/params.py).
        body = dict(await body_pairs(request))
    except InvalidInput as exc:
        runtime: Runtime = request.app.state.runtime
        client = request.query_params.get("client")
        ctx = await asyncio.to_thread(_context, runtime, request, client)
        return _failure(ctx, exc)
    return await start_from_fields(request, merge(request.query_params, body))


async def start_from_fields(request: Request, fields: dict[str, str]) -> Response:
    """Answer a session-generation request carrying ``fields``."""
    runtime: Runtime = request.app.state.runtime
    ctx = await asyncio.to_thread(_context, runtime, request, fields.get("client"))
    try:
        return await _start(request, ctx, parse(fields))
    except SupportboxError as exc:
        return _failure(ctx, exc)


def _context(runtime: Runtime, request: Request, client: str | None) -> Context:
    with runtime.db() as db:
        site: PublicSite | None = sites.site_for_host(
            db, request.headers.get("host", "")
        )
        codes = frozenset(f.code_name for f in sites.custom_fields(db))
        return Context(
            runtime=runtime,
            site_id=site.id if site else None,
            site_name=site.name if site else runtime.settings.company_name,
            show_reps_in_issue_menu=bool(site and site.show_reps_in_issue_menu),
            custom_codes=codes,
            address=request.client.host if request.client else "unknown",
            cli=client == "cli",
        )


async def _start(request: Request, ctx: Context, params: StartParams) -> Response:
    hub: Hub = ctx.runtime.services["hub"]
    head = request.method == "HEAD"
    kind = launcher.for_user_agent(request.headers.get("user-agent", ""))

    # Resolve the queue; a key is claimed now (HEAD only looks at it).
    if params.selection.mode == KEY:
        target = await _claim(ctx, params, keep=not head)
    else:
        target = await asyncio.to_thread(_resolve, ctx, params, hub)
    if head:
        return _head(ctx, params, kind)

    # Open the session; a claimed key is bound to it, or given back.
    try:
        opened = await hub.open_session(_session_request(ctx, params, target, request))
    except Exception:
        if target.key_id is not None:
            await asyncio.to_thread(_release, ctx.runtime, target.key_id)
        raise
    if target.key_id is not None:
        await asyncio.to_thread(_bind, ctx.runtime, target.key_id, opened.lsid)
    session_log.info(
        "public site %s opened session %s by %s",
        ctx.site_name,
        opened.lsid,
        target.start_method,
    )
    return _answer(ctx, params, opened, kind)


async def _claim(ctx: Context, params: StartParams, keep: bool) -> Target:
    """Claim the key (``keep``) or only check it; wrong keys are counted."""
    guesses: Limiter = ctx.runtime.services["key_guesses"]
    limit_key = f"ip:{ctx.address}"
    # Refuse a guesser before looking the key up.
    wait = guesses.retry_after(limit_key)
    if wait:
        raise RateLimited("too many wrong session keys from your address", wait)
    try:
        return await asyncio.to_thread(_claim_sync, ctx, params, keep)
    except NotFound:
        guesses.failure(limit_key)
        raise


def _claim_sync(ctx: Context, params: StartParams, keep: bool) -> Target:
    code = params.selection.short_key or params.selection.url_token
    with ctx.runtime.write_db() as db:
        try:
            target = key_target(db, keys.redeem(db, code))
        except NotFound:
            raise NotFound(KEY_NOT_VALID) from None
        if keep:
            db.commit()
        else:
            db.rollback()
        return target


def _release(runtime: Runtime, key_id: int) -> None:
    with runtime.write_db() as db, db.begin():
        keys.release(db, key_id)


def _bind(runtime: Runtime, key_id: int, lsid: str) -> None:
    with runtime.write_db() as db, db.begin():
        keys.bind(db, key_id, lsid)


def _resolve(ctx: Context, params: StartParams, hub: Hub) -> Target:
    logged_in = {rep.user_id for rep in hub.logged_in_reps()}
    with ctx.runtime.db() as db:
        site = sites.get_site(db, ctx.site_id) if ctx.site_id else None
        return resolve(db, params.selection, site, logged_in)


def _session_request(
    ctx: Context, params: StartParams, target: Target, request: Request
) -> SessionRequest:
    # Configured fields only: an unknown session.custom.<name> is dropped,
    # as the appliance drops fields that are not defined (docs).
    custom = {
        code: value
        for code, value in {**target.custom, **params.custom}.items()
        if code in ctx.custom_codes
    }
    customer = params.customer
    return SessionRequest(
        queue=target.queue,
        customer=CustomerInfo(
            name=customer.name,
            company=customer.company,
            company_code=customer.company_code,
            details=customer.details,
            issue=target.issue_name,
            public_ip=peers.public_ip(request.client),
        ),
        site_id=ctx.site_id,
        issue_id=target.issue_id,
        external_key=params.external_key or target.external_key,
        custom=custom,
        priority=target.priority,
        start_method=target.start_method,
    )


def _answer(
    ctx: Context, params: StartParams, opened: OpenedSession, kind: str
) -> Response:
    server = ctx.runtime.settings.base_url
    if ctx.cli:
        return JSONResponse(
            {"server": server, "lsid": opened.lsid, "token": opened.join_token},
            headers={"Cache-Control": "no-store"},
        )
    if params.chat:
        url = f"/chat/{opened.lsid}"
        if params.locale:
            url += f"?locale={params.locale}"
        return RedirectResponse(
            f"{url}#token={opened.join_token}",
            status_code=303,
            headers={"Cache-Control": "no-store"},
        )
    script = launcher.render(
        kind, server, opened.lsid, opened.join_token, ctx.site_name
    )
    return _download(script)


def _head(ctx: Context, params: StartParams, kind: str) -> Response:
    """The headers the same GET would send; no session is created."""
    if ctx.cli:
        sample = {
            "server": ctx.runtime.settings.base_url,
            "lsid": _SAMPLE_LSID,
            "token": _SAMPLE_TOKEN,
        }
        length = len(json.dumps(sample, separators=(",", ":")).encode())
        return _empty("application/json", length)
    if params.chat:
        return _empty("text/html; charset=utf-8", 0)
    script = launcher.render(
        kind, ctx.runtime.settings.base_url, _SAMPLE_LSID, _SAMPLE_TOKEN, ctx.site_name
    )
    response = _download(script)
    response.body = b""
    return response


def _download(script: launcher.Launcher) -> Response:
    return Response(
        script.body,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{script.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _empty(media_type: str, length: int) -> Response:
    response = Response(b"", media_type=media_type)
    response.headers["Content-Length"] = str(length)
    response.headers["Cache-Control"] = "no-store"
    return response


_STATUS: list[tuple[type[SupportboxError], int, str]] = [
    (RateLimited, 429, "Too many attempts"),
    (InvalidInput, 400, "We could not start your session"),
    (NotFound, 404, "We could not find that"),
    (SessionStateError, 409, "Not available right now"),
]


def _failure(ctx: Context, exc: SupportboxError) -> Response:
    status, title = 400, "We could not start your session"
    for kind, code, heading in _STATUS:
        if isinstance(exc, kind):
            status, title = code, heading
            break
    headers = {"Cache-Control": "no-store"}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    message = str(exc)
    if ctx.cli:
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return pages.error(ctx.site_name, status, title, message, headers)
