"""Locks out a key after too many failures within a sliding window.

A server keeps one :class:`Limiter` per kind of secret, in
``runtime.services`` (see :func:`of`):

* ``ratelimit`` — staff credentials: web, legacy API and live logins
  (keys from :func:`login_keys`), token requests (``ip:<address>`` and
  ``account:<client id>``), bearer tokens (``bearer:<address>``);
* ``key_guesses`` — session keys entered on the public site;
* ``join_guesses`` — customer session tokens at the live endpoint.

Callers pick a key per thing they protect::

    limiter.check(key)      # raises RateLimited while the key is locked
    ...verify...
    limiter.failure(key)    # or limiter.success(key)

State is kept in memory, so each node counts on its own (see
docs/limitations.md). It is safe to use from threads and coroutines.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from supportbox.errors import RateLimited

if TYPE_CHECKING:
    from supportbox.runtime import Runtime

#: Failures allowed within the window before a key is locked.
MAX_FAILURES = 10
#: Length of the sliding window, in seconds.
WINDOW = 300.0
#: Keys remembered at most; the stalest are forgotten first.
MAX_KEYS = 100_000

#: The limiter of staff credentials in ``runtime.services``.
LOGINS = "ratelimit"


class Limiter:
    """Counts failures per key; a key with ``max_failures`` in ``window`` is locked."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` is unlocked; 0 when it is not locked."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None or len(times) < self.max_failures:
                return 0
            unlock = times[-self.max_failures] + self.window
            return max(1, math.ceil(unlock - now))

    def check(self, key: str) -> None:
        """Raise :class:`RateLimited` while ``key`` is locked."""
        wait = self.retry_after(key)
        if wait:
            raise RateLimited(
                f"too many failed attempts; try again in {wait} seconds", wait
            )

    def failure(self, key: str) -> None:
        """Count one failure against ``key``."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None:
                if len(self._failures) >= MAX_KEYS:
                    # Keys are kept in the order they last failed.
                    del self._failures[next(iter(self._failures))]
                times = deque(maxlen=self.max_failures)
            else:
                del self._failures[key]
            times.append(now)
            self._failures[key] = times

    def success(self, key: str) -> None:
        """Forget the failures of ``key``."""
        with self._lock:
            self._failures.pop(key, None)

    def clear(self) -> None:
        """Forget every failure (tests sharing one server start afresh)."""
        with self._lock:
            self._failures.clear()


def of(runtime: Runtime, name: str = LOGINS) -> Limiter:
    """The server's limiter called ``name``."""
    found: Limiter = runtime.services[name]
    return found


def login_keys(client_ip: str, username: str) -> tuple[str, str]:
    """The keys a staff login counts against: its address and its user.

    Usernames are compared without case, so ``Bob`` and ``bob`` share
    one count whichever door (web, API, live) they are tried at.
    """
    return f"ip:{client_ip}", f"user:{username.lower()}"
