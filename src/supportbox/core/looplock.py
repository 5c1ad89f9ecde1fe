"""An asyncio lock for each event loop that uses the same object.

A lock belongs to the loop it was first used on. The hub and its writers
live as long as the process, while the tests run one event loop after
another on them: each loop gets a lock of its own, forgotten with it.
"""

from __future__ import annotations

import asyncio
import weakref


class LoopLock:
    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Lock
        ] = weakref.WeakKeyDictionary()

    def get(self) -> asyncio.Lock:
        """The lock of the running loop."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock
