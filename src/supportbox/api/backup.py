"""``/api/backup`` and ``/api/backup.ns``, GET or POST (spec 6).

The answer is one archive (docs/backup.md), written from one snapshot of
the database while it is sent. Wrong legacy credentials get HTTP 200 and
``<error>Invalid credentials</error>``, which backup scripts look for.
Other refusals use a 4xx status with an ``<error>`` body, so that a
script checking the status never keeps one as a backup.

``password`` encrypts the archive when the caller signed in with a
bearer token; with legacy ``username``/``password`` sign-in the archive
password is ``backup_password`` (accepted in both cases), or the
``password`` of the body when the sign-in ``password`` is in the query.
"""

from __future__ import annotations

from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from supportbox.api.auth import Principal, authenticate, require
from supportbox.api.guard import xml_errors
from supportbox.api.params import Params, body_pairs, parse_query
from supportbox.auth import audit
from supportbox.backup.stream import start_stream
from supportbox.backup.writer import BackupOptions, archive_filename, write_archive
from supportbox.errors import InvalidInput, PermissionDenied, SupportboxError
from supportbox.runtime import Runtime

INVALID_CREDENTIALS = "Invalid credentials"
PLAIN_TYPE = "application/zip"
ENCRYPTED_TYPE = "application/octet-stream"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(params: Params, name: str) -> bool:
    value = params.get(name, "0").strip().lower()
    if value not in _TRUE | _FALSE:
        raise InvalidInput(f"parameter {name} must be 1 or 0, got {value!r}")
    return value in _TRUE


async def _params(request: Request) -> tuple[Params, Params]:
    """The parameters of the query and those of the body."""
    raw = request.scope.get("query_string", b"")
    try:
        query = parse_query(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("the parameters are not UTF-8") from None
    return Params(query), Params(await body_pairs(request))


def _login_and_password(
    request: Request, query: Params, body: Params
) -> tuple[Params, str | None]:
    """The parameters to sign in with and the archive password."""
    merged = Params([*query.multi_items(), *body.multi_items()])
    chosen = merged.get("backup_password") or None
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return merged, chosen or merged.get("password") or None
    # Legacy sign-in owns ``password``; a body password beside query
    # credentials can only be meant for the archive.
    if "password" in query and "password" in body:
        login = [(k, v) for k, v in merged.multi_items() if k != "password"]
        login.append(("password", query["password"]))
        return Params(login), chosen or body["password"] or None
    return merged, chosen


def _note(runtime: Runtime, principal: Principal, options: BackupOptions) -> None:
    with runtime.write_db() as db, db.begin():
        audit.record(
            db,
            "api.backup",
            principal.name,
            audit.OK,
            principal.client_ip,
            encrypted=options.password is not None,
            recordings=options.include_recordings,
        )


def _status(exc: SupportboxError) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 400


# Refusals and crashes keep a 4xx/5xx status: a script that checks it
# must never keep an error document as a backup.
@xml_errors("backup", status=_status, failure_status=500)
async def backup(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    query, body = await _params(request)
    login, password = _login_and_password(request, query, body)
    principal = await authenticate(
        request,
        runtime,
        api="backup",
        params=login,
        legacy_failure=INVALID_CREDENTIALS,
    )
    if isinstance(principal, Response):
        return principal
    require(principal, "perm_backup")
    options = BackupOptions(password, _flag(login, "include_recordings"))

    await run_in_threadpool(_note, runtime, principal, options)

    def produce(out: BinaryIO) -> None:
        write_archive(runtime.engine, runtime.settings.data_dir, out, options)

    chunks = await start_stream(produce)
    name = archive_filename()
    return StreamingResponse(
        chunks,
        media_type=ENCRYPTED_TYPE if options.password else PLAIN_TYPE,
        headers={
            "Content-Disposition": f"attachment; filename={name}",
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/api/backup", backup, methods=["GET", "POST"]),
    Route("/api/backup.ns", backup, methods=["GET", "POST"]),
]
