"""Signed, expiring links: an HMAC-SHA256 over what the link grants.

A token is ``<payload>.<mac>``, both URL-safe base64 without padding. The
payload is a JSON list ``[purpose, subject, audience, expires_at]``:
``purpose`` says what kind of link it is (``recording-view``), ``subject``
what it opens (``<lsid>/shell/0``), ``audience`` to whom it was handed out
(``api:<client id>``, ``event``) and is written to the audit trail.

The key is 32 random bytes kept in the database (table ``meta``), so every
node sharing the database accepts the links of every other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supportbox.errors import PermissionDenied
from supportbox.runtime import Runtime
from supportbox.storage.install import meta_value
from supportbox.storage.models import Meta

KEY_NAME = "link_signing_key"
SERVICE = "link_signer"


@dataclass(frozen=True)
class Claims:
    purpose: str
    subject: str
    audience: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks link tokens with one server key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return _b64(digest)

    def sign(self, claims: Claims) -> str:
        fields = [claims.purpose, claims.subject, claims.audience, claims.expires_at]
        payload = _b64(json.dumps(fields, separators=(",", ":")).encode())
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
        if not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise PermissionDenied("the link is not valid")
        try:
            kind, subject, audience, expires = json.loads(_unb64(payload))
        except (ValueError, TypeError, binascii.Error):
            raise PermissionDenied("the link is not valid") from None
        if kind != purpose:
            raise PermissionDenied("the link is not valid")
        if int(expires) < (time.time() if now is None else now):
            raise PermissionDenied("the link has expired")
        return Claims(str(kind), str(subject), str(audience), int(expires))


def load_key(db: Session) -> bytes:
    """The server key, created on first use; the caller commits."""
    value = meta_value(db, KEY_NAME)
    if value is None:
        value = secrets.token_hex(32)
        db.add(Meta(key=KEY_NAME, value=value))
        db.flush()
    return bytes.fromhex(value)


def signer(runtime: Runtime) -> Signer:
    """This process's signer, loading (or creating) the key once."""
    found = runtime.services.get(SERVICE)
    if isinstance(found, Signer):
        return found
    try:
        with runtime.write_db() as db, db.begin():
            key = load_key(db)
    except IntegrityError:
        # another node created the key at the same moment: use theirs
        with runtime.db() as db:
            key = load_key(db)
    made = Signer(key)
    runtime.services[SERVICE] = made
    return made
