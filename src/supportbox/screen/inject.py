"""Replaying a representative's input on the customer's X display (XTest).

Keys are X keysym names (``a``, ``A``, ``Return``, ``Shift_L``). A keysym
that needs Shift on this keyboard is pressed with Shift around it. Buttons
and keys still held are released when control ends, so nothing stays
pressed on the customer's screen.
"""

from __future__ import annotations

from typing import Any

from Xlib import XK, X, display
from Xlib.ext import xtest

from supportbox.errors import InvalidInput
from supportbox.logs import log

_WHEEL = {("dy", -1): 4, ("dy", 1): 5, ("dx", -1): 6, ("dx", 1): 7}


class Injector:
    """Input for one display; use it from one thread only."""

    def __init__(self, name: str | None = None) -> None:
        self._display = display.Display(name)
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise InvalidInput("the X server has no XTEST extension")
        self._buttons: set[int] = set()
        self._keys: set[int] = set()

    def apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._one(event)
        self._display.sync()

    def _one(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        fake = self._fake
        if kind == "move":
            fake(X.MotionNotify, x=int(event["x"]), y=int(event["y"]))
        elif kind == "button_down":
            self._buttons.add(int(event["button"]))
            fake(X.ButtonPress, int(event["button"]))
        elif kind == "button_up":
            self._buttons.discard(int(event["button"]))
            fake(X.ButtonRelease, int(event["button"]))
        elif kind == "wheel":
            for axis in ("dx", "dy"):
                steps = int(event.get(axis, 0))
                button = _WHEEL[(axis, 1 if steps > 0 else -1)] if steps else 0
                for _ in range(abs(steps)):
                    fake(X.ButtonPress, button)
                    fake(X.ButtonRelease, button)
        elif kind in ("key_down", "key_up"):
            self._key(str(event["key"]), kind == "key_down")

    def _key(self, name: str, down: bool) -> None:
        keysym = XK.string_to_keysym(name)
        keycode = self._display.keysym_to_keycode(keysym) if keysym else 0
        if not keycode:
            log.debug("no key for keysym %r on this display", name)
            return
        shifted = (
            self._display.keycode_to_keysym(keycode, 0) != keysym
            and self._display.keycode_to_keysym(keycode, 1) == keysym
        )
        shift = self._display.keysym_to_keycode(XK.XK_Shift_L)
        if down:
            self._keys.add(keycode)
            if shifted:
                self._fake(X.KeyPress, shift)
            self._fake(X.KeyPress, keycode)
            if shifted:
                self._fake(X.KeyRelease, shift)
        else:
            self._keys.discard(keycode)
            self._fake(X.KeyRelease, keycode)

    def release(self) -> None:
        """Let go of every button and key still held."""
        for button in sorted(self._buttons):
            self._fake(X.ButtonRelease, button)
        for keycode in sorted(self._keys):
            self._fake(X.KeyRelease, keycode)
        self._buttons.clear()
        self._keys.clear()
        self._display.sync()

    def _fake(self, kind: int, detail: int = 0, x: int = 0, y: int = 0) -> None:
        xtest.fake_input(self._display, kind, detail, x=x, y=y)

    def close(self) -> None:
        self._display.close()
