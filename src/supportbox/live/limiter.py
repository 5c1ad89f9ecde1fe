"""The login limiter: the shared one if the server has it, else our own.

The shared limiter (``runtime.services["ratelimit"]``) has
``check(key)``, ``failure(key)`` and ``success(key)``. When a server runs
without it, :class:`FallbackLimiter` gives the same contract in memory.
"""

from __future__ import annotations

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


class FallbackLimiter:
    """At most ``MAX_FAILURES`` failures per key within ``WINDOW`` seconds."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        times = self._failures.get(key)
        now = time.monotonic()
        while times and times[0] < now - WINDOW:
            times.popleft()
        if times is not None and len(times) >= MAX_FAILURES:
            wait = int(times[0] + WINDOW - now) + 1
            raise RateLimited(
                f"too many failed attempts; try again in {wait} seconds", wait
            )

    def failure(self, key: str) -> None:
        self._failures.setdefault(key, deque(maxlen=MAX_FAILURES)).append(
            time.monotonic()
        )

    def success(self, key: str) -> None:
        self._failures.pop(key, None)


def limiter_of(runtime: Runtime, fallback: Limiter) -> Limiter:
    shared: Limiter | None = runtime.services.get("ratelimit")
    return fallback if shared is None else shared
