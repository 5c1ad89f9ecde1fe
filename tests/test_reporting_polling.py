"""The polling pattern of real integrations (spec 5.2, docs/reporting.md).

Clients ask again and again for ``end_time=<last end seen>&duration=0``
and drop lsids they already have. These tests prove that, done this way,
no session is ever skipped and the only repeats are the sessions of the
boundary second, which the lsid check removes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from reportkit import N, xml
from reportseed import seed
from supportbox.runtime import Runtime


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    from serverkit import fresh_runtime

    with fresh_runtime(tmp_path_factory.mktemp("polling") / "data") as live:
        yield live


def poll(runtime: Runtime, since: int, now: float) -> list[tuple[str, int]]:
    """``(lsid, end timestamp)`` of one poll, in report order."""
    root = xml(
        runtime, "SupportSession", {"end_time": str(since), "duration": "0"}, now
    )
    found = []
    for session in root.iterfind("r:session", N):
        end = session.find("r:end_time", N)
        assert end is not None
        found.append((str(session.get("lsid")), int(str(end.get("timestamp")))))
    return found


def ended(runtime: Runtime, *ends: float) -> list[str]:
    with runtime.db() as db, db.begin():
        return [seed(db, start=end - 30, end=end, site=None).lsid for end in ends]


def test_a_poll_from_the_last_end_seen_repeats_that_second_only(
    runtime: Runtime,
) -> None:
    a, b = ended(runtime, 1_000_100.2, 1_000_100.7)
    (c,) = ended(runtime, 1_000_101.5)

    # At 101.9 the second 101 is still running: only second 100 is reported.
    first = poll(runtime, 1_000_000, now=1_000_101.9)
    assert first == [(a, 1_000_100), (b, 1_000_100)]
    last_seen = max(end for _, end in first)

    # Asking again from 100 (inclusive) repeats A and B, then brings C.
    second = poll(runtime, last_seen, now=1_000_102.5)
    assert second == [(a, 1_000_100), (b, 1_000_100), (c, 1_000_101)]
    seen = {lsid for lsid, _ in first}
    fresh = [lsid for lsid, _ in second if lsid not in seen]
    assert fresh == [c]
    assert all(end == last_seen for lsid, end in second if lsid in seen)


def test_a_session_ending_later_in_the_boundary_second_is_not_lost(
    runtime: Runtime,
) -> None:
    (a,) = ended(runtime, 2_000_100.1)
    first = poll(runtime, 2_000_000, now=2_000_101.0)
    assert first == [(a, 2_000_100)]
    # B ends in the same second as A but is stored only after the poll.
    (b,) = ended(runtime, 2_000_100.9)
    second = poll(runtime, first[-1][1], now=2_000_101.2)
    assert [lsid for lsid, _ in second] == [a, b]


def test_polling_through_a_busy_hour_never_skips_or_duplicates(
    runtime: Runtime,
) -> None:
    rng = random.Random(5)
    base = 3_000_000.0
    # 400 sessions over 120 s, many sharing a second, each stored up to
    # 0.8 s after it ended (the hub's transaction), in any order.
    pending: list[tuple[float, float]] = []
    for _ in range(400):
        end = base + rng.uniform(0, 120)
        pending.append((end + rng.uniform(0, 0.8), end))
    pending.sort()

    expected: dict[str, int] = {}
    delivered: list[str] = []
    seen: set[str] = set()
    last_seen = int(base) - 1
    now = base
    while now < base + 125:
        now += rng.uniform(0.05, 3.0)
        stored = [end for visible, end in pending if visible <= now]
        pending = [(v, e) for v, e in pending if v > now]
        for lsid, end in zip(ended(runtime, *stored), stored, strict=True):
            expected[lsid] = int(end)
        result = poll(runtime, last_seen, now)
        for lsid, end in result:
            if lsid in seen:
                # A repeat is only ever a session of the boundary second.
                assert end == last_seen
                continue
            seen.add(lsid)
            delivered.append(lsid)
        if result:
            last_seen = max(last_seen, *(end for _, end in result))

    assert sorted(delivered) == sorted(expected)
    assert len(delivered) == len(set(delivered)) == 400
