"""The in-process broker: asyncio queues, one per subscription."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

#: Messages a subscription may hold before it is marked as overflowed.
BACKLOG = 1024

OVERFLOW: dict[str, Any] = {"type": "overflow"}


class MemorySubscription:
    def __init__(self, broker: MemoryBroker, channels: tuple[str, ...]) -> None:
        self._broker = broker
        self.channels = channels
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(BACKLOG)
        self.overflowed = False

    def offer(self, message: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # The reader is too slow: drop what is queued and tell it to
            # catch up from storage instead of growing without bound.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)

    async def get(self) -> dict[str, Any]:
        message = await self.queue.get()
        if message is OVERFLOW:
            self.overflowed = False
        return message

    async def ready(self) -> None:
        return None

    def close(self) -> None:
        self._broker.unsubscribe(self)


class MemoryBroker:
    """Delivers within this process; publish never blocks."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[MemorySubscription]] = defaultdict(set)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.offer(message)

    def subscribe(self, *channels: str) -> MemorySubscription:
        return self.attach(MemorySubscription(self, channels))

    def attach(self, subscription: MemorySubscription) -> MemorySubscription:
        """Start delivering to ``subscription`` on each of its channels."""
        for channel in subscription.channels:
            self._subscribers[channel].add(subscription)
        return subscription

    def everyone(self) -> set[MemorySubscription]:
        found: set[MemorySubscription] = set()
        for members in self._subscribers.values():
            found |= members
        return found

    def unsubscribe(self, subscription: MemorySubscription) -> None:
        for channel in subscription.channels:
            members = self._subscribers.get(channel)
            if members is not None:
                members.discard(subscription)
                if not members:
                    del self._subscribers[channel]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscribers.clear()
