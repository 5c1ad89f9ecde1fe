"""The representative's terminal while a remote shell has it.

:class:`RawTerminal` puts standard input in raw mode (every key, Ctrl-C
included, goes to the remote shell as a byte) and puts it back exactly as
it was on :meth:`RawTerminal.restore`, which is safe to call more than
once and also runs at interpreter exit. When standard input is not a
terminal nothing is changed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import termios
import tty
from typing import Any

#: Ctrl-] leaves the remote shell, as in telnet.
ESCAPE = b"\x1d"
ESCAPE_NAME = "Ctrl-]"


def window_size() -> tuple[int, int]:
    """``(width, height)`` of the terminal, 80x24 when there is none."""
    for stream in (sys.stdout, sys.stdin):
        try:
            size = os.get_terminal_size(stream.fileno())
        except (OSError, ValueError):
            continue
        if size.columns > 0 and size.lines > 0:
            return size.columns, size.lines
    return 80, 24


def _stdin_fd() -> int:
    """Standard input's descriptor; -1 when it has none (closed, a test's)."""
    try:
        return sys.stdin.fileno()
    except (OSError, ValueError):
        return -1


class RawTerminal:
    def __init__(self, fd: int | None = None) -> None:
        self.fd = _stdin_fd() if fd is None else fd
        self._saved: list[Any] | None = None

    def enter(self) -> None:
        """Raw mode, if standard input is a terminal."""
        if self._saved is not None or self.fd < 0 or not os.isatty(self.fd):
            return
        self._saved = termios.tcgetattr(self.fd)
        atexit.register(self.restore)
        tty.setraw(self.fd, termios.TCSANOW)

    def restore(self) -> None:
        saved, self._saved = self._saved, None
        if saved is None:
            return
        atexit.unregister(self.restore)
        with contextlib.suppress(termios.error):  # the terminal may be gone
            termios.tcsetattr(self.fd, termios.TCSADRAIN, saved)

    @property
    def raw(self) -> bool:
        return self._saved is not None
