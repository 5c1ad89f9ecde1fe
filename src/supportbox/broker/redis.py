"""The Redis broker: live traffic shared by every node of a cluster.

Each node keeps one Redis pub/sub connection. A local subscription to a
channel makes the node subscribe to it in Redis (once, however many local
subscribers there are); messages from Redis are fanned out locally by an
in-process broker. Publishing goes through Redis, so a node hears its own
messages in the same order as everyone else.

If the Redis connection drops, the node reconnects, subscribes again and
sends every local subscriber an ``overflow`` message: what was published
meanwhile is lost to the broker, and subscribers catch up from storage.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from supportbox.broker.memory import OVERFLOW, MemoryBroker, MemorySubscription
from supportbox.logs import log

PREFIX = "supportbox:"


class RedisSubscription(MemorySubscription):
    def __init__(self, broker: RedisBroker, channels: tuple[str, ...]) -> None:
        super().__init__(broker.local, channels)
        self._redis_broker = broker

    async def ready(self) -> None:
        """Wait until Redis delivers this subscription's channels."""
        await self._redis_broker.sync()

    def close(self) -> None:
        super().close()
        self._redis_broker.release(self.channels)


class RedisBroker:
    def __init__(self, url: str) -> None:
        self.url = url
        self.local = MemoryBroker()
        self._refs: Counter[str] = Counter()
        self._wanted: set[str] = set()
        self._joined: set[str] = set()
        self._changed = asyncio.Event()
        self._synced = asyncio.Event()
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = aioredis.from_url(self.url)
        await self._client.ping()
        self._task = asyncio.create_task(self._pump(), name="redis-broker")
        log.info("broker: Redis at %s", self.url.split("@")[-1])

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        await self.local.stop()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        assert self._client is not None, "broker not started"
        await self._client.publish(PREFIX + channel, json.dumps(message))

    def subscribe(self, *channels: str) -> RedisSubscription:
        subscription = RedisSubscription(self, channels)
        self.local.attach(subscription)
        for channel in channels:
            self._refs[channel] += 1
        self._update_wanted()
        return subscription

    def release(self, channels: tuple[str, ...]) -> None:
        for channel in channels:
            self._refs[channel] -= 1
            if self._refs[channel] <= 0:
                del self._refs[channel]
        self._update_wanted()

    def _update_wanted(self) -> None:
        self._wanted = set(self._refs)
        if self._wanted != self._joined:
            self._synced.clear()
            self._changed.set()

    async def sync(self) -> None:
        """Return once Redis subscriptions match the local ones."""
        if self._wanted != self._joined:
            await asyncio.wait_for(self._synced.wait(), 10)

    async def _pump(self) -> None:
        while True:
            try:
                await self._pump_once()
            except (RedisError, OSError) as exc:
                log.warning("broker: Redis connection lost (%s); reconnecting", exc)
                self._joined = set()
                for subscription in self.local.everyone():
                    subscription.offer(OVERFLOW)
                await asyncio.sleep(0.5)

    async def _pump_once(self) -> None:
        assert self._client is not None
        # Any: redis-py's typing of PubSub changes between releases.
        pubsub: Any = self._client.pubsub()
        try:
            while True:
                await self._apply_subscriptions(pubsub)
                if not self._joined:
                    self._changed.clear()
                    await self._changed.wait()
                    continue
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=0.2
                )
                if message is not None and message["type"] == "message":
                    channel = message["channel"].decode().removeprefix(PREFIX)
                    await self.local.publish(channel, json.loads(message["data"]))
        finally:
            await pubsub.aclose()

    async def _apply_subscriptions(self, pubsub: Any) -> None:
        wanted = set(self._wanted)
        new = wanted - self._joined
        gone = self._joined - wanted
        if new:
            await pubsub.subscribe(*(PREFIX + c for c in new))
        if gone:
            await pubsub.unsubscribe(*(PREFIX + c for c in gone))
        self._joined = wanted
        if self._joined == self._wanted:
            self._synced.set()
