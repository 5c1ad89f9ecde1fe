"""The fields of the screen-sharing messages (docs/protocol.md, version 1.2)."""

from __future__ import annotations

STR, INT, LIST = "str", "int", "list"

_CHANNEL = {"channel": (INT, True)}
_REASON = {"channel": (INT, True), "reason": (STR, False)}

SCREEN_SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "screen_open": {"lsid": (STR, True)},
    "screen_watch": {"lsid": (STR, True)},
    "screen_accept": {**_CHANNEL, "width": (INT, True), "height": (INT, True)},
    "screen_refuse": _REASON,
    "screen_ack": {**_CHANNEL, "update": (INT, True)},
    "screen_close": _REASON,
    "screenshot": {**_CHANNEL, "filename": (STR, False)},
    "control_request": _CHANNEL,
    "control_grant": _CHANNEL,
    "control_refuse": _REASON,
    "control_revoke": _REASON,
    "screen_input": {**_CHANNEL, "events": (LIST, True)},
}
