"""The signature on every outbound post.

A receiver recomputes ``HMAC-SHA256(secret, "<timestamp>." + body)`` over
the exact bytes it received and compares it with the signature header;
the timestamp header tells it how old the attempt is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Supportbox-Signature"
TIMESTAMP_HEADER = "X-Supportbox-Timestamp"
EVENT_ID_HEADER = "X-Supportbox-Event-Id"

#: How far a timestamp may lie from the receiver's clock by default.
TOLERANCE = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header: ``sha256=<hex>``."""
    message = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def headers(secret: str, body: bytes, event_id: str, now: float) -> dict[str, str]:
    """Every header of one attempt, signed at ``now``."""
    timestamp = int(now)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_ID_HEADER: event_id,
    }


def verify(
    secret: str,
    timestamp: str,
    received: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> bool:
    """Whether ``received`` signs ``body`` at ``timestamp`` within ``tolerance``."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), received)
