"""Messages of the live protocol, version 1, as plain data.

A message is one JSON object in one text frame, with a ``type``. A client
may add an ``id`` (a string of up to 64 characters); the answer to that
message (``ok`` or ``error``) carries it back as ``re``. Nothing here
touches a socket: :func:`parse` turns a frame into a :class:`Message` or
raises :class:`ProtocolError`, and the ``*_frame`` helpers build answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from supportbox.errors import ProtocolError
from supportbox.presentation.schemas import PRESENTATION_SCHEMAS
from supportbox.streams.schemas import STREAM_SCHEMAS

VERSION = 1

#: Additions within version 1 that clients may rely on (docs/protocol.md).
MINOR = 2

#: Largest text frame the server reads, in bytes; larger ones get an error.
MAX_FRAME = 256 * 1024

#: Seconds between the pings a client should send.
HEARTBEAT = 20

CUSTOMER = "customer"
REPRESENTATIVE = "representative"
ROLES = (CUSTOMER, REPRESENTATIVE)

# error codes
MALFORMED = "malformed"
TOO_LARGE = "too_large"
UNKNOWN_TYPE = "unknown_type"
INVALID = "invalid"
UNSUPPORTED_VERSION = "unsupported_version"
NOT_AUTHENTICATED = "not_authenticated"
ALREADY_AUTHENTICATED = "already_authenticated"
AUTH_FAILED = "auth_failed"
RATE_LIMITED = "rate_limited"
NOT_IN_SESSION = "not_in_session"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
SESSION_STATE = "session_state"
INTERNAL = "internal"
REFUSED = "refused"

STR = "str"
INT = "int"
OBJ = "obj"
LIST = "list"
BOOL = "bool"

_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    STR: str,
    INT: int,
    OBJ: dict,
    LIST: list,
    BOOL: bool,
}

#: For each client message type: field -> (kind, required).
SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "hello": {
        "v": (INT, True),
        "role": (STR, True),
        "lsid": (STR, False),
        "token": (STR, False),
        "last_seq": (INT, False),
        "username": (STR, False),
        "password": (STR, False),
        "resume_token": (STR, False),
        "sessions": (OBJ, False),
        "client": (OBJ, False),
        "queue_updates": (BOOL, False),
        "web_session": (BOOL, False),
    },
    "ping": {},
    "bye": {},
    "chat": {"lsid": (STR, False), "body": (STR, True)},
    "system_info": {"lsid": (STR, False), "categories": (LIST, True)},
    "survey": {"lsid": (STR, False), "answers": (OBJ, True)},
    "leave": {"lsid": (STR, False)},
    "queues": {},
    "accept": {"lsid": (STR, False)},
    "join": {"lsid": (STR, True)},
    "external_key": {"lsid": (STR, True), "external_key": (STR, True)},
    "note": {"lsid": (STR, True), "body": (STR, True)},
    "transfer": {"lsid": (STR, True), "to": (STR, True)},
    "invite": {"lsid": (STR, True), "username": (STR, True)},
    "end": {"lsid": (STR, True)},
    **STREAM_SCHEMAS,
    **PRESENTATION_SCHEMAS,
}


@dataclass(frozen=True)
class Message:
    type: str
    id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


def parse(frame: str | bytes) -> Message:
    """Validate one frame against :data:`SCHEMAS`.

    Raises :class:`ProtocolError` naming what is wrong; the error carries
    the message's ``id`` when one could be read.
    """
    size = len(frame) if isinstance(frame, bytes) else len(frame.encode())
    if size > MAX_FRAME:
        raise ProtocolError(TOO_LARGE, f"frame is larger than {MAX_FRAME} bytes")
    if isinstance(frame, bytes):
        # Shell and file data never reach here once signed in (endpoint.py).
        raise ProtocolError(
            MALFORMED, "binary frames carry stream data and need a signed-in peer"
        )
    try:
        data = json.loads(frame)
    except ValueError:
        raise ProtocolError(MALFORMED, "frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError(MALFORMED, "frame is not a JSON object")

    ident = data.get("id")
    if ident is not None and (not isinstance(ident, str) or len(ident) > 64):
        raise ProtocolError(INVALID, "id must be a string of up to 64 characters")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(MALFORMED, "frame has no type", ident)
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind!r}", ident)

    fields = {}
    for name, (value_kind, required) in schema.items():
        if name not in data:
            if required:
                raise ProtocolError(INVALID, f"{kind} needs {name}", ident)
            continue
        value = data[name]
        wrong_bool = isinstance(value, bool) != (value_kind == BOOL)
        if wrong_bool or not isinstance(value, _PYTHON_TYPES[value_kind]):
            raise ProtocolError(INVALID, f"{name} must be of type {value_kind}", ident)
        fields[name] = value
    return Message(kind, ident, fields)


def string_map(value: Any, what: str) -> dict[str, str]:
    """``value`` as a dict of strings to strings, or an ``invalid`` error."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ProtocolError(INVALID, f"{what} must map names to strings")
    return dict(value)


def seq_map(value: Any) -> dict[str, int]:
    """The ``sessions`` of a hello: lsid -> last seq seen."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in value.items()
    ):
        raise ProtocolError(INVALID, "sessions must map lsids to sequence numbers")
    return dict(value)


def ok_frame(re: str | None, **body: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ok"}
    if re is not None:
        frame["re"] = re
    frame.update(body)
    return frame


def error_frame(code: str, message: str, re: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if re is not None:
        frame["re"] = re
    return frame


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
