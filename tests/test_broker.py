"""Both brokers: in-process, and Redis shared by two 'nodes'."""

from __future__ import annotations

import asyncio

import pytest

from serverkit import REDIS_URL, needs_redis
from supportbox.broker import make_broker
from supportbox.broker.memory import BACKLOG, MemoryBroker
from supportbox.broker.redis import RedisBroker
from supportbox.errors import ConfigError


def test_memory_broker_delivers_in_order_to_every_subscriber() -> None:
    async def scenario() -> None:
        broker = MemoryBroker()
        first, second = broker.subscribe("a"), broker.subscribe("a", "b")
        for n in range(3):
            await broker.publish("a", {"n": n})
        await broker.publish("b", {"n": 9})
        assert [(await first.get())["n"] for _ in range(3)] == [0, 1, 2]
        assert [(await second.get())["n"] for _ in range(4)] == [0, 1, 2, 9]
        first.close()
        await broker.publish("a", {"n": 3})
        assert first.queue.empty()

    asyncio.run(scenario())


def test_a_subscriber_that_falls_behind_is_told_to_catch_up() -> None:
    async def scenario() -> None:
        broker = MemoryBroker()
        slow = broker.subscribe("a")
        for n in range(BACKLOG + 5):
            await broker.publish("a", {"n": n})
        assert (await slow.get())["type"] == "overflow"
        await broker.publish("a", {"n": "after"})
        assert (await slow.get())["n"] == "after"

    asyncio.run(scenario())


def test_make_broker_picks_by_url() -> None:
    assert isinstance(make_broker(""), MemoryBroker)
    assert isinstance(make_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    with pytest.raises(ConfigError):
        make_broker("amqp://nope")


@pytest.mark.redis
@needs_redis
def test_redis_broker_carries_messages_between_two_nodes() -> None:
    async def scenario() -> None:
        node_a, node_b = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
        await node_a.start()
        await node_b.start()
        try:
            on_b = node_b.subscribe("session:x")
            also_b = node_b.subscribe("session:x")
            await on_b.ready()
            for n in range(5):
                await node_a.publish("session:x", {"n": n})
            got = [(await asyncio.wait_for(on_b.get(), 5))["n"] for _ in range(5)]
            assert got == [0, 1, 2, 3, 4]
            assert (await asyncio.wait_for(also_b.get(), 5))["n"] == 0
            on_b.close()
            also_b.close()
            quiet = node_a.subscribe("session:y")
            await quiet.ready()
            await node_b.publish("session:y", {"n": "y"})
            assert (await asyncio.wait_for(quiet.get(), 5))["n"] == "y"
        finally:
            await node_a.stop()
            await node_b.stop()

    asyncio.run(scenario())
