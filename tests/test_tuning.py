"""The allocator settings, the clients' event loop and the frozen startup
objects (supportbox.tuning)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys

import pytest

from supportbox import tuning

# Four 3 MiB buffers made, touched and freed, over and over: the shape of
# file data crossing the relay. The program prints the page faults of the
# second half, after the heap has had a chance to settle.
CHURN = """
import resource, sys
from supportbox import tuning
print(tuning.tune_allocator() if sys.argv[1] == "tuned" else "plain")
def churn():
    for _ in range(50):
        blocks = [bytearray(3 << 20) for _ in range(4)]
        for block in blocks:
            block[::4096] = bytes(len(block[::4096]))
        del blocks
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="the settings exist only in glibc"
)


def churn(mode: str, **env: str) -> tuple[str, int]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"
    }
    done = subprocess.run(
        [sys.executable, "-c", CHURN, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    applied, faults = done.stdout.split()
    return applied, int(faults)


@glibc
def test_tuned_heap_keeps_frame_buffers_instead_of_faulting_them_in_again() -> None:
    plain_applied, plain = churn("plain")
    applied, tuned = churn("tuned")
    assert plain_applied == "plain" and applied == "True"
    # Without the settings the top of the heap goes back to the kernel and
    # is faulted in again (thousands of pages); with them it is kept.
    assert plain > 1_000, plain
    assert tuned < plain // 20, (tuned, plain)


@glibc
@pytest.mark.parametrize(
    "own",
    [
        {"MALLOC_TOP_PAD_": "0"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"},
    ],
)
def test_own_allocator_settings_are_left_alone(own: dict[str, str]) -> None:
    applied, _faults = churn("tuned", **own)
    assert applied == "False"


async def loop_kind() -> type:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_clients_run_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert tuning.run(loop_kind) is uvloop.Loop


def test_without_uvloop_the_clients_run_on_asyncio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import fails
    kind = tuning.run(loop_kind)
    assert issubclass(kind, asyncio.BaseEventLoop)
    assert "uvloop" not in kind.__module__


FROZEN = """
import gc, sys
from supportbox import tuning
import supportbox.features  # a server's worth of modules
print(tuning.freeze_startup_objects())
# What is made afterwards is still collected, cycles included.
class Node:
    pass
before = len(gc.get_objects())
for _ in range(1000):
    a, b = Node(), Node()
    a.other, b.other = b, a
del a, b
gc.collect()
print(len(gc.get_objects()) - before)
"""


def test_frozen_startup_objects_leave_later_garbage_collectable() -> None:
    frozen, grown = subprocess.run(
        [sys.executable, "-c", FROZEN],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(frozen) > 10_000  # the imported modules' objects, at least
    assert int(grown) < 100  # 2,000 cyclic objects were made and collected
