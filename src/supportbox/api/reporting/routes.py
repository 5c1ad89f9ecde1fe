"""``/api/reporting`` (and ``.ns``), its schema, and ``/session_download``."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from supportbox.api.auth import authenticate
from supportbox.api.guard import xml_errors
from supportbox.api.params import Params, gather
from supportbox.api.reporting import links, recordings, transcripts
from supportbox.api.reporting.context import FileBody, Output, ReportContext, Stream
from supportbox.api.reporting.registry import REPORTS, Report
from supportbox.api.reporting.schema import schema_text
from supportbox.api.reporting.stream import XML_HEADERS, ReportResponse, drive
from supportbox.auth import links as auth_links
from supportbox.errors import (
    ConfigError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SessionStateError,
)
from supportbox.logs import log
from supportbox.recording import access
from supportbox.recording import links as recording_links
from supportbox.runtime import Runtime
from supportbox.xml import writer

METHODS = ["GET", "POST"]


def _error(message: str, namespace: str) -> Response:
    body = writer.error_document(message, namespace)
    return Response(body, media_type=writer.CONTENT_TYPE, headers=XML_HEADERS)


def _open_db(runtime: Runtime) -> Session:
    # A report may stream for minutes: it must not hold SQLite's write lock.
    db = runtime.read_db()
    if runtime.engine.dialect.name == "postgresql":
        # One snapshot for the whole report, however many batches it reads.
        db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return db


def _start(
    runtime: Runtime, report: Report, params: Params, audience: str
) -> tuple[Output, Session]:
    """Check the parameters and prepare the body; the caller closes the db."""
    now = time.time()
    settings = runtime.settings
    maker = links.LinkMaker(
        auth_links.signer(runtime),
        settings.base_url,
        settings.report_link_ttl,
        now,
        audience,
    )
    db = _open_db(runtime)
    try:
        ctx = ReportContext(db, params, settings, maker, now)
        return report.build(ctx), db
    except BaseException:
        db.close()
        raise


@xml_errors("reporting", headers=XML_HEADERS)
async def reporting(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    namespace = runtime.settings.namespace("reporting")
    params = await gather(request)
    principal = await authenticate(request, runtime, api="reporting", params=params)
    if isinstance(principal, Response):
        return principal

    name = params.get("generate_report", "").strip()
    report = REPORTS.get(name)
    if report is None:
        shown = name[:60] if name else "(none)"
        return _error(f"Invalid report type: {shown}.", namespace)
    if not principal.has(report.permission):
        return _error(
            f"This API account is not allowed to run {name} reports "
            f"(it needs {report.permission}).",
            namespace,
        )

    try:
        audience = f"api:{principal.name}"
        output, db = await run_in_threadpool(_start, runtime, report, params, audience)
    except ConfigError as exc:
        log.error("report %s cannot run: %s", name, exc)
        return _error("The server cannot run this report; see its log.", namespace)

    if isinstance(output, FileBody):
        await run_in_threadpool(db.close)
        inline = params.get("download", "1") == "0"
        disposition = "inline" if inline else "attachment"
        return FileResponse(
            output.path,
            media_type=output.media_type,
            filename=output.filename,
            content_disposition_type=disposition,
        )
    assert isinstance(output, Stream)
    headers = dict(XML_HEADERS, **output.headers)
    body = drive(name, output.chunks, db)
    return ReportResponse(name, body, output.media_type, headers)


async def reporting_schema(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    text = schema_text(runtime.settings.namespace("reporting"))
    return Response(text, media_type=writer.CONTENT_TYPE)


def _download(runtime: Runtime, params: Params, request: Request) -> Response:
    """Serve what a ``/session_download`` token grants.

    A recording goes through the same audit trail as ``/recordings/*``:
    each use writes a ``recording_access`` row naming the token's audience.
    """
    claims = auth_links.signer(runtime).verify(params.get("lsid", ""), links.PURPOSE)
    try:
        lsid, medium, instance = recording_links.parse_subject(claims.subject)
    except ValueError:
        raise PermissionDenied("the download link is not valid") from None
    if params.get("dl_action", "") != medium or medium not in links.MEDIA:
        raise PermissionDenied("the download link is not valid")
    view = params.get("view", "") == "1"
    if medium == "chat":
        with runtime.db() as db, db.begin():
            transcript = transcripts.load(db, lsid)
        if view:
            return HTMLResponse(transcripts.as_html(transcript))
        filename = f"{lsid}-chat.txt"
        return PlainTextResponse(
            transcript.as_text(),
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    with runtime.write_db() as db, db.begin():
        found = recordings.find(db, runtime.settings, lsid, medium, instance)
        access.note(
            db,
            found.recording_id,
            access.VIEW if view else access.DOWNLOAD,
            claims.audience,
            client_ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", ""),
        )
    body = found.body
    return FileResponse(
        body.path,
        media_type=body.media_type,
        filename=body.filename,
        content_disposition_type="inline" if view else "attachment",
    )


async def session_download(request: Request) -> Response:
    """A transcript or recording behind a signed link from a report."""
    runtime: Runtime = request.app.state.runtime
    try:
        params = await gather(request)
        return await run_in_threadpool(_download, runtime, params, request)
    except PermissionDenied as exc:
        return PlainTextResponse(f"Forbidden: {exc}.\n", status_code=403)
    except (NotFound, SessionStateError, InvalidInput) as exc:
        return PlainTextResponse(f"Not available: {exc}\n", status_code=404)


routes: list[BaseRoute] = [
    Route("/api/reporting", reporting, methods=METHODS),
    Route("/api/reporting.ns", reporting, methods=METHODS),
    Route("/api/reporting.xsd", reporting_schema, methods=["GET"]),
    Route("/session_download", session_download, methods=["GET"]),
]
