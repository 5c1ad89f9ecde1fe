"""Remote-control input as JSON, checked before it reaches a customer.

Each ``screen_input`` message carries a list of events::

    {"event": "move", "x": 10, "y": 20}
    {"event": "button_down", "button": 1}      (also "button_up"; 1-9)
    {"event": "wheel", "dx": 0, "dy": -1}      (one step per unit)
    {"event": "key_down", "key": "a"}          (also "key_up"; X keysym names)
"""

from __future__ import annotations

from typing import Any

from supportbox.errors import InvalidInput

MAX_EVENTS = 64

_FIELDS: dict[str, tuple[str, ...]] = {
    "move": ("x", "y"),
    "button_down": ("button",),
    "button_up": ("button",),
    "wheel": ("dx", "dy"),
    "key_down": ("key",),
    "key_up": ("key",),
}

_RANGES = {"x": (0, 65535), "y": (0, 65535), "button": (1, 9), "dx": (-20, 20)}


def check(events: Any) -> list[dict[str, Any]]:
    """The events, with only the fields each kind takes; InvalidInput if bad."""
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise InvalidInput(f"events must be a list of 1 to {MAX_EVENTS} events")
    return [_one(e) for e in events]


def _one(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("event") not in _FIELDS:
        raise InvalidInput(f"an input event is one of {', '.join(_FIELDS)}")
    kind = event["event"]
    checked: dict[str, Any] = {"event": kind}
    for name in _FIELDS[kind]:
        value = event.get(name)
        if name == "key":
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise InvalidInput("key must be an X keysym name")
        else:
            low, high = _RANGES.get(name, _RANGES["dx"])
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{name} of {kind} must be an integer")
            if not low <= value <= high:
                raise InvalidInput(f"{name} of {kind} must be {low} to {high}")
        checked[name] = value
    return checked
