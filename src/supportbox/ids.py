"""Identifiers and secrets drawn from the operating system's random source."""

import secrets
import string

_ALNUM = string.ascii_letters + string.digits


def new_lsid() -> str:
    """A session id: 32 lower-case hex characters (spec 1.6)."""
    return secrets.token_hex(16)


def new_appliance_id() -> str:
    return secrets.token_hex(16)


def new_client_id() -> str:
    """An OAuth client id: 40 hex characters, as the appliance shows them."""
    return secrets.token_hex(20)


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def new_token() -> str:
    """A bearer token: 40 alphanumerics (about 238 bits)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def new_short_key() -> str:
    """A session key: 7 decimal digits."""
    return f"{secrets.randbelow(10_000_000):07d}"


def new_url_token() -> str:
    """The ``ak`` of a key URL: 32 hex characters."""
    return secrets.token_hex(16)
