from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from supportbox.api.reporting.window import Window, parse
from supportbox.errors import InvalidInput

NOW = 1_733_300_000.4


def window(**params: str) -> Window:
    return parse(params, "UTC", lambda: NOW)


def test_a_start_time_window_is_half_open_from_the_anchor() -> None:
    found = window(start_time="1000", duration="60")
    assert found == Window("start", 1000.0, 1060.0)
    assert found.contains(1000.0)
    assert found.contains(1059.99)
    assert not found.contains(1060.0)
    assert not found.contains(999.99)


def test_duration_zero_on_a_start_anchor_leaves_the_window_open() -> None:
    assert window(start_time="1000", duration="0") == Window("start", 1000.0, None)


def test_an_end_window_stops_at_the_start_of_the_running_second() -> None:
    assert window(end_time="1000", duration="0").until == 1_733_300_000.0
    assert window(end_time="1000", duration="10").until == 1010.0


def test_date_anchors_start_at_midnight_utc_and_count_days() -> None:
    found = window(start_date="2024-12-03", duration="2")
    assert found.begin == datetime(2024, 12, 3, tzinfo=ZoneInfo("UTC")).timestamp()
    assert found.until == found.begin + 2 * 86400


def test_date_anchors_follow_the_report_timezone_across_dst() -> None:
    # 2024-03-31 is 23 hours long in Paris (clocks go forward).
    found = parse({"start_date": "2024-03-31", "duration": "1"}, "Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    assert found.begin == datetime(2024, 3, 31, tzinfo=paris).timestamp()
    assert found.until is not None
    assert found.until - found.begin == 23 * 3600


def test_a_time_wins_over_a_date_of_the_same_kind() -> None:
    found = window(start_date="2024-12-03", start_time="5000", duration="5")
    assert found == Window("start", 5000.0, 5005.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_time": "1", "end_time": "2"}, "Conflicting time window"),
        ({"start_date": "2024-01-01", "end_date": "2024-01-02"}, "Conflicting"),
        ({"duration": "10"}, "Missing time window"),
        ({}, "Missing time window"),
        ({"start_time": "yesterday"}, "Invalid start_time"),
        ({"start_time": "-5"}, "Invalid start_time"),
        ({"start_time": "1", "duration": "-1"}, "Invalid duration"),
        ({"start_time": "1", "duration": "1.5"}, "Invalid duration"),
        ({"start_date": "2024-13-01"}, "not a calendar date"),
        ({"start_date": "03/12/2024"}, "expected YYYY-MM-DD"),
        ({"end_date": "2024-01-01", "duration": "99999999"}, "too long"),
    ],
)
def test_conflicting_or_malformed_windows_are_refused_clearly(
    params: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        window(**params)
