"""Signed, expiring links: an HMAC-SHA256 over what the link grants.

This is the one signer of every link that opens a transcript or a
recording without a login (report URLs, session events, the admin pages).

A token is ``<payload>.<mac>``, both URL-safe base64 without padding. The
payload is a JSON list ``[purpose, subject, audience, expires_at]``:
``purpose`` says what kind of link it is (``recording-view``), ``subject``
what it opens (``<lsid>/shell/0``), ``audience`` to whom it was handed
out (``api:<account name>``, ``event``, ``web:<username>``) and is written
to the audit trail.

The key is 32 random bytes kept in the database (table ``meta``), so every
node sharing the database accepts the links of every other. A server
loads it once at start-up (:class:`LinkSigner`), so that no request has
to write to the database to make or check a link.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supportbox.auth.secure import secure_equal
from supportbox.errors import ConfigError, PermissionDenied
from supportbox.runtime import Runtime
from supportbox.storage.install import meta_value
from supportbox.storage.models import Meta

KEY_NAME = "link_signing_key"
SERVICE = "link_signer"
INVALID = "the link is not valid"


@dataclass(frozen=True)
class Claims:
    purpose: str
    subject: str
    audience: str
    expires_at: int


#: ``json.dumps(..., separators=(",", ":"))`` without a new encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks link tokens with one server key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        # Keyed once; each MAC copies it (reports sign a link per session).
        self._keyed = hmac.new(key, digestmod="sha256")

    def _mac(self, payload: str) -> str:
        mac = self._keyed.copy()
        mac.update(payload.encode())
        return _b64(mac.digest())

    def sign(self, claims: Claims) -> str:
        fields = [claims.purpose, claims.subject, claims.audience, claims.expires_at]
        payload = _b64(_COMPACT.encode(fields).encode())
        return f"{payload}.{self._mac(payload)}"

    def issue(self, purpose: str, subject: str, audience: str, lifetime: int) -> str:
        expires = int(time.time()) + lifetime
        return self.sign(Claims(purpose, subject, audience, expires))

    def verify(self, token: str, purpose: str, now: float | None = None) -> Claims:
        """The claims of a genuine, unexpired token for ``purpose``.

        Raises :class:`PermissionDenied` otherwise, without saying which
        check failed unless the link merely expired.
        """
        payload, _, mac = token.partition(".")
        if not payload or not secure_equal(mac, self._mac(payload)):
            raise PermissionDenied(INVALID)
        try:
            kind, subject, audience, expires = json.loads(_unb64(payload))
            claims = Claims(str(kind), str(subject), str(audience), int(expires))
        except (ValueError, TypeError, binascii.Error):
            raise PermissionDenied(INVALID) from None
        if claims.purpose != purpose:
            raise PermissionDenied(INVALID)
        if claims.expires_at < (time.time() if now is None else now):
            raise PermissionDenied("the link has expired")
        return claims


def load_key(db: Session) -> bytes:
    """The server key, created on first use; the caller commits.

    Call it in a write session (``runtime.write_db()``): on SQLite that
    transaction holds the write lock from its first read; on PostgreSQL a
    node that loses the race to create the key reads the winner's.
    """
    value = meta_value(db, KEY_NAME)
    if value is None:
        try:
            with db.begin_nested():
                db.add(Meta(key=KEY_NAME, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another node created it first; read theirs
        value = meta_value(db, KEY_NAME)
        assert value is not None
    return bytes.fromhex(value)


def load(open_db: Callable[[], Session]) -> Signer:
    """A signer with the server key, read (or made) now."""
    with open_db() as db, db.begin():
        return Signer(load_key(db))


class LinkSigner:
    """The service ``runtime.services["link_signer"]``: loads the key at start."""

    def __init__(self, open_db: Callable[[], Session]) -> None:
        self._open_db = open_db
        self._signer: Signer | None = None

    async def start(self) -> None:
        self._signer = await anyio.to_thread.run_sync(load, self._open_db)

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise ConfigError("the link signer has not been started")
        return self._signer


def install(runtime: Runtime) -> None:
    runtime.services[SERVICE] = LinkSigner(runtime.write_db)


def signer(runtime: Runtime) -> Signer:
    """This server's signer (started with the server)."""
    service: LinkSigner = runtime.services[SERVICE]
    return service.signer
