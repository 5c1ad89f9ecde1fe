"""Time-based one-time passwords (RFC 6238), 6 digits every 30 seconds."""

from __future__ import annotations

import base64
import binascii
import re

import pyotp

ISSUER = "supportbox"


def new_secret() -> str:
    return pyotp.random_base32()


def valid_secret(secret: str) -> bool:
    """True for an unpadded base32 secret of 32 to 64 characters."""
    if not re.fullmatch(r"[A-Z2-7]{32,64}", secret):
        return False
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8))
    except binascii.Error:
        return False
    return True


def uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def verify(secret: str | None, code: str) -> bool:
    """True for the current code, or the one just before or after it."""
    code = code.strip().replace(" ", "")
    if not secret or not re.fullmatch(r"[0-9]{6}", code):
        return False
    try:
        return pyotp.TOTP(secret).verify(code, valid_window=1)
    except ValueError:  # binascii.Error, or a secret too short for pyotp
        return False
