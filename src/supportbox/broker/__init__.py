"""The broker carries live traffic to the participants of sessions.

A broker delivers JSON-ready messages published on a channel to every
subscription of that channel, in order, at most once. It keeps nothing:
what must survive (session events) is stored before it is published, and
a subscriber that falls behind is told to catch up from storage.

Implementations: :mod:`.memory` (one process, the default) and, for
several nodes, a Redis one chosen by the ``broker_url`` setting.
"""

from __future__ import annotations

from typing import Any, Protocol


class Subscription(Protocol):
    """Messages of one or more channels, until closed."""

    overflowed: bool

    async def get(self) -> dict[str, Any]:
        """The next message; waits for it."""
        ...

    def close(self) -> None: ...


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> Subscription: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
