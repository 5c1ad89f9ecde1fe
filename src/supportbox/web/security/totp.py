"""Time-based one-time passwords (RFC 6238), 6 digits every 30 seconds."""

from __future__ import annotations

import pyotp

ISSUER = "supportbox"


def new_secret() -> str:
    return pyotp.random_base32()


def uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def verify(secret: str | None, code: str) -> bool:
    """True for the current code, or the one just before or after it."""
    code = code.strip().replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, valid_window=1)
