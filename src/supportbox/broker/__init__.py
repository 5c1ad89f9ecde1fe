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

from supportbox.errors import ConfigError


class Subscription(Protocol):
    """Messages of one or more channels, until closed."""

    overflowed: bool

    async def get(self) -> dict[str, Any]:
        """The next message; waits for it."""
        ...

    async def ready(self) -> None:
        """Return once messages published from now on will arrive.

        Subscribe, await this, then read what storage has: nothing falls
        between the two.
        """
        ...

    def close(self) -> None: ...


def make_broker(url: str) -> Broker:
    """The in-process broker for an empty ``url``, else the Redis one."""
    if not url:
        from supportbox.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from supportbox.broker.redis import RedisBroker

        return RedisBroker(url)
    raise ConfigError(f"broker url {url!r} is not empty or redis://...")


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, *channels: str) -> Subscription: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
