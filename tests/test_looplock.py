"""One lock per event loop (supportbox.core.looplock)."""

from __future__ import annotations

import asyncio

from supportbox.core.looplock import LoopLock


def test_each_loop_gets_its_own_lock_and_keeps_it() -> None:
    shared = LoopLock()

    async def hold() -> asyncio.Lock:
        lock = shared.get()
        assert shared.get() is lock  # the same within one loop
        async with lock:
            # A lock of another loop would raise here ("bound to a
            # different event loop") once it has waiters; take it twice.
            waiter = asyncio.ensure_future(lock.acquire())
            await asyncio.sleep(0)
        await waiter
        lock.release()
        return lock

    first, second = asyncio.run(hold()), asyncio.run(hold())
    assert first is not second
