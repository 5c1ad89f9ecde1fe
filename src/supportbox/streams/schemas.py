"""The fields of the shell and file transfer messages (docs/protocol.md).

Kept apart from the handlers so that :mod:`supportbox.live.protocol` can
validate them without importing the relay.
"""

from __future__ import annotations

from supportbox.screen.schemas import SCREEN_SCHEMAS

STR, INT, OBJ, BOOL = "str", "int", "obj", "bool"

STREAM_SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "shell_open": {
        "lsid": (STR, True),
        "width": (INT, False),
        "height": (INT, False),
    },
    "shell_accept": {"channel": (INT, True), "env": (OBJ, False)},
    "shell_resize": {
        "channel": (INT, True),
        "width": (INT, True),
        "height": (INT, True),
    },
    "shell_close": {"channel": (INT, True), "reason": (STR, False)},
    "file_send": {
        "lsid": (STR, True),
        "path": (STR, True),
        "size": (INT, True),
        "overwrite": (BOOL, False),
    },
    "file_fetch": {"lsid": (STR, True), "path": (STR, True)},
    "file_accept": {"channel": (INT, True), "size": (INT, False)},
    "file_refuse": {"channel": (INT, True), "reason": (STR, True)},
    "file_end": {"channel": (INT, True), "sha256": (STR, True)},
    "file_done": {"channel": (INT, True)},
    **SCREEN_SCHEMAS,
}
