"""Running reports in-process and checking what they write."""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

import httpx
from lxml import etree

from supportbox.api.reporting import links
from supportbox.api.reporting.context import FileBody, ReportContext, Stream
from supportbox.api.reporting.registry import REPORTS
from supportbox.api.reporting.schema import schema_text
from supportbox.auth import links as auth_links
from supportbox.runtime import Runtime

if TYPE_CHECKING:
    from serverkit import LiveServer

NS = "http://www.bomgar.com/namespaces/API/reporting"
N = {"r": NS}


def api_token(live: LiveServer) -> str:
    """A Reporting API bearer token of the demo API account of ``live``."""
    api = live.credentials["api"]
    with live.http() as http:
        response = http.post(
            "/oauth2/token",
            auth=(api["client_id"], api["client_secret"]),
            data={"grant_type": "client_credentials"},
        )
    found: str = response.json()["access_token"]
    return found


def report(live: LiveServer, token: str, **params: str) -> httpx.Response:
    """``GET /api/reporting`` with ``params`` through the real server."""
    with live.http(headers={"Authorization": f"Bearer {token}"}) as http:
        return http.get("/api/reporting", params=params)


@cache
def schema(namespace: str = NS) -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(schema_text(namespace).encode()))


def run(
    runtime: Runtime, name: str, params: Mapping[str, str], now: float | None = None
) -> str | bytes | FileBody:
    """The whole output of report ``name``; raises what the report raises."""
    now = time.time() if now is None else now
    signer = auth_links.load(runtime.write_db)
    maker = links.LinkMaker(signer, runtime.settings.base_url, 3600, now, "api:test")
    with runtime.db() as db:
        ctx = ReportContext(db, dict(params), runtime.settings, maker, now)
        output = REPORTS[name].build(ctx)
        if isinstance(output, FileBody):
            return output
        assert isinstance(output, Stream)
        chunks = list(output.chunks)
    if all(isinstance(c, bytes) for c in chunks):
        return b"".join(c for c in chunks if isinstance(c, bytes))
    return "".join(c for c in chunks if isinstance(c, str))


def xml(
    runtime: Runtime, name: str, params: Mapping[str, str], now: float | None = None
) -> etree._Element:
    """Run a report, validate it against reporting.xsd, return its root."""
    text = run(runtime, name, params, now)
    assert isinstance(text, str)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n\n')
    root = etree.fromstring(text.encode())
    schema().assertValid(root)
    return root


def lsids(root: etree._Element) -> list[str]:
    return [str(s.get("lsid")) for s in root.findall("r:session", N)]
