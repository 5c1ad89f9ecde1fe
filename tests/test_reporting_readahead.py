import threading
from collections.abc import Iterator

import pytest

from supportbox.api.reporting.readahead import read_ahead


class Source:
    """A generator of 0..count-1 that records what happened to it."""

    def __init__(self, count: int, hold: int | None = None) -> None:
        self.count = count
        self.hold = hold  # item whose production waits for ``release``
        self.release = threading.Event()
        self.holding = threading.Event()
        self.produced: list[int] = []
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def items(self) -> Iterator[int]:
        try:
            for item in range(self.count):
                self.threads.add(threading.current_thread().name)
                if item == self.hold:
                    self.holding.set()
                    assert self.release.wait(10)
                self.produced.append(item)
                yield item
        finally:
            self.closed.set()


def test_items_come_in_order_from_one_worker_thread() -> None:
    source = Source(50)
    assert list(read_ahead(source.items(), "test-ahead")) == list(range(50))
    assert len(source.threads) == 1
    assert source.threads.pop().startswith("test-ahead")
    assert source.closed.is_set()


def test_at_most_one_item_is_produced_ahead() -> None:
    source = Source(10, hold=2)
    items = read_ahead(source.items())
    assert next(items) == 0
    assert next(items) == 1
    # Item 2 is in production (held); nothing beyond it has started.
    assert source.holding.wait(10)
    assert source.produced == [0, 1]
    source.release.set()
    assert list(items) == list(range(2, 10))


def test_an_error_of_the_source_reaches_the_consumer_at_its_item() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise LookupError("no such batch")

    items = read_ahead(failing())
    assert next(items) == 1
    with pytest.raises(LookupError, match="no such batch"):
        next(items)


def test_closing_waits_for_the_item_in_progress_then_closes_the_source() -> None:
    source = Source(10, hold=1)
    items = read_ahead(source.items())
    assert next(items) == 0
    assert source.holding.wait(10)

    closer = threading.Thread(target=items.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close() returned while the source was running"
    assert not source.closed.is_set()

    source.release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert source.closed.is_set()
    assert source.produced == [0, 1]
