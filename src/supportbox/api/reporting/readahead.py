"""Producing the next item of an iterator while the current one is used.

A report alternates between waiting (on the database, on a client that
reads slowly) and computing (building XML). :func:`read_ahead` moves the
production of an iterator's items to a thread of their own, one item
ahead of the consumer: while a batch of sessions is turned into XML, the
next batch is already being read; while a chunk is being sent, the next
one is being written. Python runs one thread at a time, but database
drivers and sockets release it while they wait, so on a machine with
two cores or more the waiting overlaps the computing.

Memory stays bounded: at most one item is produced ahead.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()


def read_ahead(
    source: Iterator[T], name: str = "read-ahead"
) -> Generator[T, None, None]:
    """The items of ``source``, each produced while the previous one is used.

    ``source`` is advanced only by one worker thread, never concurrently.
    An exception it raises reaches the consumer when it asks for that
    item. Closing the returned generator waits for the item in progress,
    then closes ``source`` (and so releases what it holds) before it
    returns.
    """
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    pending: Future[object] | None = None
    try:
        pending = pool.submit(next, source, _END)
        while True:
            item = pending.result()
            if item is _END:
                pending = None
                return
            pending = pool.submit(next, source, _END)
            yield cast(T, item)
    finally:
        # Never close a generator another thread is running.
        if pending is not None:
            wait([pending])
        close = getattr(source, "close", None)
        if close is not None:
            close()
        pool.shutdown()
