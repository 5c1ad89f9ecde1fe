"""Turning what a command raised into an ``error`` frame."""

from __future__ import annotations

from typing import Any

from supportbox import errors
from supportbox.errors import ProtocolError
from supportbox.live import protocol

_CODES: tuple[tuple[type[Exception], str], ...] = (
    (errors.RateLimited, protocol.RATE_LIMITED),
    (errors.AuthError, protocol.AUTH_FAILED),
    (errors.NotFound, protocol.NOT_FOUND),
    (errors.PermissionDenied, protocol.FORBIDDEN),
    (errors.SessionStateError, protocol.SESSION_STATE),
    (errors.Conflict, protocol.SESSION_STATE),
    (errors.InvalidInput, protocol.INVALID),
    (errors.TransferRefused, protocol.REFUSED),
)


def error_for(exc: Exception, re: str | None) -> dict[str, Any] | None:
    """The frame for an expected failure; ``None`` for a bug."""
    if isinstance(exc, ProtocolError):
        return protocol.error_frame(exc.code, exc.message, re or exc.re)
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return protocol.error_frame(code, str(exc), re)
    return None
