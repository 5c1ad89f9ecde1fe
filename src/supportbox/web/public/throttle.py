"""A limit on session-key guessing, per client address.

A session key is only seven digits, so a public form that answers
"unknown key" is an oracle. Each address may fail ``limit`` times in a
sliding ``window``; past that every key request from it, right or wrong,
is refused until the oldest failure leaves the window. The counts live in
this process only (see docs/limitations.md).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

#: How many addresses are remembered; the least recently failing go first.
MAX_ADDRESSES = 50_000


class KeyGuessLimit:
    """Sliding-window failure counter keyed by client address."""

    def __init__(self, limit: int, window: float = 600.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, address: str, now: float | None = None) -> int:
        """Seconds until ``address`` may try a key again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(address, now)
        if len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[0] + self.window - now))

    def failed(self, address: str, now: float | None = None) -> None:
        """Count one wrong key from ``address``."""
        now = time.monotonic() if now is None else now
        failures = self._recent(address, now)
        failures.append(now)
        self._failures[address] = failures
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(address, None)
        return failures
