"""Argon2 hashing for passwords and API client secrets."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from supportbox.errors import InvalidInput

_hasher = PasswordHasher()

MIN_LENGTH = 8

# A hash to verify against when the account does not exist, so that a
# wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("supportbox-dummy-password")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """True when ``secret`` matches ``stored_hash``; ``None`` never matches."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def check_strength(password: str, username: str = "") -> None:
    """Raise :class:`InvalidInput` for an empty, short or obvious password."""
    if not password:
        raise InvalidInput("password is empty")
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password is shorter than {MIN_LENGTH} characters")
    if username and password.lower() == username.lower():
        raise InvalidInput("password is the same as the username")
    if len(set(password)) < 4:
        raise InvalidInput("password uses fewer than 4 different characters")
