"""Process-wide settings that make the data paths cheaper.

File and shell data cross the server and the clients in frames of up to
a mebibyte (docs/protocol.md). With glibc's default allocator settings,
each such buffer is either mapped and unmapped on its own, or carved
from the top of the heap that is handed back to the kernel as soon as it
is free; either way the next frame faults its pages in afresh, which
costs about a third of the server's CPU time on a transfer
(docs/performance.md, "File transfer"). :func:`tune_allocator` keeps
freed blocks of up to 8 MiB in the heap, and up to 64 MiB of free memory
at its top (per malloc arena), instead: after a transfer the process's
RSS may stay that much higher, in exchange for not faulting it in again
for the next one.

:func:`run` runs the clients on uvloop when it is installed (it is with
uvicorn's standard extras, as the server already uses it).

:func:`freeze_startup_objects` takes the hundreds of thousands of objects
a started server holds for good (modules, mappers, routes, settings) out
of the cyclic garbage collector's view: each collection then walks only
what the traffic made. Those walks had been about 7 % of the server's
CPU time on a file transfer.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os
import platform
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from supportbox.logs import log

# mallopt parameters, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

#: Blocks below this size come from the heap, never from their own mapping.
MMAP_THRESHOLD = 8 * 1024 * 1024
#: Free memory at the top of the heap kept before any is returned.
TRIM_THRESHOLD = 64 * 1024 * 1024
#: Extra memory asked for each time the heap grows.
TOP_PAD = 16 * 1024 * 1024

_ENV = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_")

T = TypeVar("T")


def tune_allocator() -> bool:
    """Apply the settings above; ``False`` where they do not (all) apply.

    Only glibc has these knobs, and a ``MALLOC_*_`` variable or a
    ``glibc.malloc`` tunable in the environment means someone chose their
    own values: those are kept.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        log.debug("allocator left as it is: not glibc")
        return False
    chosen = "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")
    if chosen or any(name in os.environ for name in _ENV):
        log.debug("allocator left as the environment set it")
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Each is applied even if another is refused (a 32-bit glibc refuses
    # an mmap threshold this large).
    refused = [
        name
        for name, param, value in (
            ("mmap threshold", _M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            ("trim threshold", _M_TRIM_THRESHOLD, TRIM_THRESHOLD),
            ("top pad", _M_TOP_PAD, TOP_PAD),
        )
        if mallopt(param, value) != 1
    ]
    if refused:
        log.debug("allocator: glibc refused the %s", ", ".join(refused))
    else:
        log.debug("allocator: freed frame buffers stay in the heap")
    return not refused


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on uvloop where it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def freeze_startup_objects() -> int:
    """Collect once, then keep every surviving object out of later
    collections (:func:`gc.freeze`); how many objects were frozen.

    ``supportbox serve`` calls it once its application has started: what
    exists then lives as long as the process. (Not for a process that
    starts and stops servers, as the tests do: each call freezes what the
    earlier ones left.)
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
