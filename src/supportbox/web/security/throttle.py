"""The rate limiter guarding web logins.

The API's limiter (``runtime.services["ratelimit"]``) is shared when it
is installed, so failures on either door count together; otherwise the
web login keeps a small one of its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Protocol

from supportbox.errors import RateLimited
from supportbox.runtime import Runtime

MAX_FAILURES = 10
WINDOW = 300.0


class Limiter(Protocol):
    def check(self, key: str) -> None: ...

    def failure(self, key: str) -> None: ...

    def success(self, key: str) -> None: ...


class WindowLimiter:
    """Locks a key once it has ``max_failures`` failures within ``window`` seconds."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW):
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            times = self._failures.get(key)
            while times and times[0] <= now - self.window:
                times.popleft()
            if times is None or len(times) < self.max_failures:
                return
            wait = max(1, int(times[0] + self.window - now))
        raise RateLimited(
            f"too many failed attempts; try again in {wait} seconds", wait
        )

    def failure(self, key: str) -> None:
        with self._lock:
            times = self._failures.setdefault(key, deque(maxlen=self.max_failures))
            times.append(time.monotonic())

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def limiter(runtime: Runtime) -> Limiter:
    """The shared limiter, created on first use when no feature installed one."""
    found = runtime.services.get("ratelimit")
    if found is None:
        found = runtime.services.setdefault("ratelimit", WindowLimiter())
    return found  # type: ignore[no-any-return]
