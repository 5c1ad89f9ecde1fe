"""Checks shared by the directory functions."""

import re

from supportbox.errors import InvalidInput

_CODE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")


def name(value: str, what: str, limit: int = 100) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what} is empty")
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return value


def code_name(value: str, what: str = "code name") -> str:
    value = value.strip()
    if not _CODE_NAME.match(value):
        raise InvalidInput(
            f"{what} {value!r} must be lower-case letters, digits, '_' or '-'"
        )
    return value


def slug(text: str) -> str:
    """A code name made from a display name ("Tech Support" -> "tech_support")."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "team"


_ID = re.compile(r"[0-9]{1,12}")

# Ids are database integers; a larger one would fail in PostgreSQL.
MAX_ID = 2_147_483_647


def is_id(text: str) -> bool:
    """True for ASCII digits naming a possible id (str.isdigit takes "²")."""
    return _ID.fullmatch(text) is not None and int(text) <= MAX_ID


def parse_id(text: str, what: str) -> int:
    """``text`` as a whole number from 0 to :data:`MAX_ID`, or InvalidInput."""
    if not is_id(text):
        raise InvalidInput(f"{what} {text[:40]!r} is not a whole number")
    return int(text)
