"""Request parameters as the XML APIs receive them (spec 1.2).

Integrations send parameters in the query string of a GET, in an
urlencoded or multipart POST body, in the query string of a POST whose
body is empty, and (for ``/oauth2/token``) as a JSON object. All of them
end up in one :data:`Params` multi-dict; a body value beats a query value
of the same name. A bare flag such as ``&showmembers`` is present with
the value ``""``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator
from urllib.parse import parse_qsl

from starlette.datastructures import ImmutableMultiDict, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from supportbox.errors import InvalidInput

Params = ImmutableMultiDict[str, str]

#: Largest request body the APIs read, in bytes.
MAX_BODY = 1024 * 1024

_MAX_FIELDS = 1000


def parse_query(text: str) -> list[tuple[str, str]]:
    """Pairs of an urlencoded string; blank and bare names are kept."""
    try:
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=_MAX_FIELDS,
            errors="strict",
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the parameters cannot be read: {exc}") from None


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the parameters are not UTF-8") from None


def parse_json(body: bytes) -> list[tuple[str, str]]:
    """Pairs of a flat JSON object; numbers and booleans become text."""
    try:
        value = json.loads(_decode(body))
    except json.JSONDecodeError:
        raise InvalidInput("the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput("the JSON request body is not an object")
    pairs = []
    for name, item in value.items():
        if isinstance(item, bool):
            item = "1" if item else "0"
        if not isinstance(item, str | int | float):
            raise InvalidInput(f"the JSON value of {name!r} is not a string")
        pairs.append((name, str(item)))
    return pairs


async def read_body(request: Request) -> bytes:
    """The raw body, refusing one larger than :data:`MAX_BODY`."""
    declared = request.headers.get("content-length", "")
    if re.fullmatch(r"[0-9]{1,12}", declared) and int(declared) > MAX_BODY:
        raise InvalidInput(f"the request body is larger than {MAX_BODY} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise InvalidInput(f"the request body is larger than {MAX_BODY} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidInput("the client went away while sending the body") from None
    return b"".join(chunks)


async def _multipart(request: Request, body: bytes) -> list[tuple[str, str]]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, stream(), max_files=0, max_fields=_MAX_FIELDS
    )
    try:
        form = await parser.parse()
    except (MultiPartException, ValueError, KeyError, AssertionError) as exc:
        raise InvalidInput(f"the multipart body cannot be read: {exc}") from None
    pairs = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            continue
        pairs.append((name, value))
    await form.close()
    return pairs


async def body_pairs(request: Request) -> list[tuple[str, str]]:
    """The parameters of the body, whatever its encoding."""
    if request.method not in {"POST", "PUT"}:
        return []
    body = await read_body(request)
    if not body.strip():
        return []
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return await _multipart(request, body)
    if kind == "application/json" or (
        kind in {"", "text/plain"} and body.lstrip().startswith(b"{")
    ):
        return parse_json(body)
    return parse_query(_decode(body).strip())


async def gather(request: Request) -> Params:
    """Every parameter of ``request``: query first, then the body over it.

    Raises :class:`InvalidInput` for a body that cannot be read; never
    anything else for bad input.
    """
    pairs = parse_query(_decode(request.scope.get("query_string", b"")))
    pairs.extend(await body_pairs(request))
    return Params(pairs)
