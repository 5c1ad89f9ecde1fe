"""Signed, expiring download links of session transcripts and recordings.

A link is ``/session_download?lsid=<token>&dl_action=<action>[&view=1]``
(spec 5.3). The token keeps the appliance's shape,
``l=<lsid>;h=<hash>;t=sd;m=<what>``, plus ``i=<instance>`` for shell
recordings and ``x=<unix expiry>``. The hash is the first 40 hex digits
of an HMAC-SHA256 over every other part, keyed with a random server key
kept in the ``meta`` table, so every node of a cluster accepts the links
of every other and nobody can forge or extend one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supportbox.errors import PermissionDenied
from supportbox.storage.install import meta_value
from supportbox.storage.models import Meta

KEY_NAME = "report_link_key"
MEDIA = ("chat", "shell", "screen", "show_my_screen")


def server_key(db: Session) -> bytes:
    """The link-signing key, created on first use (safe between nodes).

    Call it in a write session (``runtime.write_db()``): on SQLite that
    transaction holds the write lock from its first read.
    """
    value = meta_value(db, KEY_NAME)
    if value is None:
        try:
            with db.begin_nested():
                db.add(Meta(key=KEY_NAME, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another node created it first (PostgreSQL); read theirs
        value = meta_value(db, KEY_NAME)
        assert value is not None
    return bytes.fromhex(value)


class LinkKeys:
    """The signing key of one server process, read (or made) at start-up.

    Registered as ``runtime.services["report_links"]`` so that no report
    request ever has to write to the database.
    """

    def __init__(self, open_db: Callable[[], Session]) -> None:
        self._open_db = open_db
        self._key: bytes | None = None

    def _load(self) -> bytes:
        with self._open_db() as db, db.begin():
            return server_key(db)

    async def start(self) -> None:
        self._key = await anyio.to_thread.run_sync(self._load)

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = self._load()
        return self._key


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: one medium of one session."""

    lsid: str
    medium: str
    instance: int
    expires: int


def _signed_part(grant: Grant) -> str:
    return f"l={grant.lsid};t=sd;m={grant.medium};i={grant.instance};x={grant.expires}"


def _digest(key: bytes, grant: Grant) -> str:
    mac = hmac.new(key, _signed_part(grant).encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def token(key: bytes, grant: Grant) -> str:
    digest = _digest(key, grant)
    return (
        f"l={grant.lsid};h={digest};t=sd;m={grant.medium};"
        f"i={grant.instance};x={grant.expires}"
    )


def verify(key: bytes, text: str, now: float | None = None) -> Grant:
    """The grant of a token, or :class:`PermissionDenied`."""
    parts = dict(p.split("=", 1) for p in text.split(";") if "=" in p)
    try:
        grant = Grant(parts["l"], parts["m"], int(parts.get("i", "0")), int(parts["x"]))
    except (KeyError, ValueError):
        raise PermissionDenied("the download link is not valid") from None
    if parts.get("t") != "sd" or grant.medium not in MEDIA:
        raise PermissionDenied("the download link is not valid")
    if not hmac.compare_digest(_digest(key, grant), parts.get("h", "")):
        raise PermissionDenied("the download link is not valid")
    if grant.expires < (time.time() if now is None else now):
        raise PermissionDenied("the download link has expired")
    return grant


class LinkMaker:
    """Builds the view and download URLs of one report run."""

    def __init__(self, key: bytes, base_url: str, ttl: int, now: float) -> None:
        self.key = key
        self.base = base_url.rstrip("/") + "/session_download"
        self.expires = int(now) + ttl

    def urls(self, lsid: str, medium: str, instance: int = 0) -> tuple[str, str]:
        """``(view_url, download_url)`` for one medium of one session."""
        grant = Grant(lsid, medium, instance, self.expires)
        download = (
            f"{self.base}?lsid={quote(token(self.key, grant), safe='')}"
            f"&dl_action={medium}"
        )
        return download + "&view=1", download
