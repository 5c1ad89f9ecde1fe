"""The rate limiter guarding web logins: the one the API uses.

Failures at the web login and at the token endpoint count against the
same limiter (``runtime.services["ratelimit"]``), so an address guessing
at either door is locked out of both.
"""

from __future__ import annotations

from supportbox.auth.ratelimit import Limiter
from supportbox.runtime import Runtime


def limiter(runtime: Runtime) -> Limiter:
    found: Limiter = runtime.services["ratelimit"]
    return found


def keys(client_ip: str, username: str) -> tuple[str, str]:
    """The keys a web login attempt counts against."""
    return f"ip:{client_ip}", f"user:{username.lower()}"
