"""Comparisons of secrets that take the same time whatever the input."""

from __future__ import annotations

import hmac


def secure_equal(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are equal, compared in constant time.

    ``hmac.compare_digest`` refuses a str with non-ASCII characters, so
    both sides are compared as UTF-8 bytes; any text is safe to pass.
    """
    return hmac.compare_digest(a.encode(), b.encode())
