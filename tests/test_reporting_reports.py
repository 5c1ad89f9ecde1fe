"""Summary, survey, team, license, archive and presentation reports."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lxml import etree

from reportkit import N, run, xml
from reportseed import Person, seed
from supportbox.api.reporting.team import NO_DATA
from supportbox.errors import InvalidInput, NotFound
from supportbox.runtime import Runtime


@pytest.fixture
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    from serverkit import fresh_runtime

    with fresh_runtime(tmp_path_factory.mktemp("reports") / "data") as live:
        yield live


DAY = datetime(2024, 12, 3, tzinfo=UTC).timestamp()


def two_sessions(runtime: Runtime) -> tuple[str, str]:
    """Alice helps Jane (10 min, waited 60 s); Bob and Alice help Joe."""
    with runtime.db() as db, db.begin():
        first = seed(
            db,
            start=DAY + 3600,
            end=DAY + 3600 + 600,
            people=[Person("Jane"), Person("Alice", user="alice", joined=DAY + 3660)],
            queue=("team", 1),
            external_key="INC1",
            surveys=[
                ("customer", 1, DAY + 4300, {"rating": "5", "comments": "Quick"}),
                ("rep", 2, DAY + 4310, {"resolved": "yes"}),
            ],
        ).lsid
        second = seed(
            db,
            start=DAY + 7200,
            end=DAY + 7200 + 1200,
            people=[
                Person("Joe"),
                Person("Bob", user="bob", joined=DAY + 7320),
                Person("Alice", user="alice", joined=DAY + 7400, primary=False),
            ],
            queue=("team", 2),
            surveys=[("customer", 1, DAY + 8500, {"rating": "3"})],
        ).lsid
    return first, second


def summaries(root: etree._Element, tag: str) -> dict[str, list[str]]:
    found = {}
    for summary in root.iterfind("r:summary", N):
        who = summary.find(f"r:{tag}", N)
        assert who is not None
        found[str(who.text)] = [
            str(summary.findtext(f"r:{name}", namespaces=N))
            for name in ("total_sessions", "avg_session_length", "avg_wait_time")
        ]
    return found


def test_the_summary_totals_per_rep_team_and_site(runtime: Runtime) -> None:
    two_sessions(runtime)
    window = {"start_date": "2024-12-03", "duration": "1"}
    reps = xml(runtime, "SupportSessionSummary", {**window, "report_type": "rep"})
    assert summaries(reps, "representative") == {
        # The wait is the session's: until its first representative came.
        "Alice": ["2", "00:15:00", "00:01:30"],
        "Bob": ["1", "00:20:00", "00:02:00"],
    }
    teams = xml(runtime, "SupportSessionSummary", {**window, "report_type": "team"})
    assert summaries(teams, "team") == {
        "Tech Support": ["1", "00:10:00", "00:01:00"],
        "Accounts": ["1", "00:20:00", "00:02:00"],
    }
    sites = xml(runtime, "SupportSessionSummary", {**window, "report_type": "site"})
    assert summaries(sites, "public_site") == {"Support": ["2", "00:15:00", "00:01:30"]}
    with pytest.raises(InvalidInput, match="report_type"):
        run(runtime, "SupportSessionSummary", {**window, "report_type": "planet"})


def test_exit_survey_reports_list_answers_by_question(runtime: Runtime) -> None:
    first, second = two_sessions(runtime)
    window = {"start_time": str(int(DAY)), "duration": "86400"}
    root = xml(
        runtime, "SupportCustExitSurvey", {**window, "report_type": "rep", "id": "all"}
    )
    surveys = root.findall("r:exit_survey", N)
    assert [s.get("lsid") for s in surveys] == [first, second]
    assert surveys[0].get("timestamp") == str(int(DAY + 4300))
    by = surveys[0].find("r:submitted_by", N)
    assert by is not None and by.get("type") == "customer" and by.text == "Jane"
    questions = surveys[0].findall("r:question_list/r:question", N)
    assert [q.findtext("r:name", namespaces=N) for q in questions] == [
        "rating",
        "comments",
    ]
    assert questions[0].findtext("r:label", namespaces=N) == (
        "How would you rate this session?"
    )
    assert questions[0].findtext("r:answer_list/r:answer", namespaces=N) == "5"

    # Only Bob's sessions, by id; then the rep survey of Alice, by lsid.
    bob = xml(
        runtime, "SupportCustExitSurvey", {**window, "report_type": "rep", "id": "2"}
    )
    assert [s.get("lsid") for s in bob.findall("r:exit_survey", N)] == [second]
    reps = xml(runtime, "SupportRepExitSurvey", {"lsid": first})
    (survey,) = reps.findall("r:exit_survey", N)
    by = survey.find("r:submitted_by", N)
    assert by is not None and by.get("type") == "rep" and by.text == "Alice"
    assert survey.findtext(".//r:answer", namespaces=N) == "yes"


def test_the_team_report_lists_member_activity_or_the_spec_error(
    runtime: Runtime,
) -> None:
    two_sessions(runtime)
    window = {"start_time": str(int(DAY)), "duration": "86400"}
    root = xml(runtime, "SupportTeam", {**window, "team_id": "1"})
    (team,) = root.findall("r:team_activity", N)
    assert team.attrib == {"name": "Tech Support", "id": "1"}
    events = team.findall("r:events/r:event", N)
    # Alice (twice) and Bob are Tech Support members.
    actors = [e.findtext("r:performed_by", namespaces=N) for e in events]
    assert actors == ["Alice", "Bob", "Alice"]
    assert {e.get("event_type") for e in events} == {"Conference Member Added"}
    empty = run(runtime, "SupportTeam", {"start_time": "1", "duration": "10"})
    assert isinstance(empty, str)
    assert f">{NO_DATA}</error>" in empty
    assert etree.QName(etree.fromstring(empty.encode())).localname == "error"


def test_license_usage_counts_distinct_reps_at_the_peak(runtime: Runtime) -> None:
    two_sessions(runtime)
    root = xml(
        runtime,
        "LicenseUsage",
        {"start_date": "2024-12-03", "duration": "1", "group_by": "hour"},
    )
    intervals = root.findall("r:license_time_intervals/r:license_time_interval", N)
    assert len(intervals) == 24
    peaks = [
        int(str(i.findtext("r:peak_license_count", namespaces=N))) for i in intervals
    ]
    assert peaks[:4] == [0, 1, 2, 0]
    assert intervals[0].findtext("r:license_count", namespaces=N) == "4"
    with pytest.raises(InvalidInput, match="end_"):
        run(runtime, "LicenseUsage", {"end_time": "1", "duration": "10"})
    with pytest.raises(InvalidInput, match="group_by"):
        run(runtime, "LicenseUsage", {"start_time": "1", "group_by": "week"})


def test_archives_are_listed_and_built_from_stored_sessions(runtime: Runtime) -> None:
    first, _second = two_sessions(runtime)
    listing = xml(runtime, "ArchiveListing", {"date": "2024-12-03"})
    states = [i.text for i in listing.iterfind("r:state_archive/r:index", N)]
    assert states == ["3", "5"]  # 01:00 (Jane) and 02:00 (Joe)
    events = [i.text for i in listing.iterfind("r:event_archive/r:index", N)]
    assert events == ["7", "8", "13", "15"]

    body = run(
        runtime, "Archive", {"date": "2024-12-03", "type": "state", "index": "3"}
    )
    assert isinstance(body, bytes)
    state = json.loads(gzip.decompress(body))
    (session,) = state["support_session"].values()
    assert session["lsid"] == first and session["customer_name"] == "Jane"
    assert state["presentation_session"] is None
    # At 01:00 Alice had not joined yet (she joined at 01:01).
    assert state["representative"] is None
    later = run(
        runtime, "Archive", {"date": "2024-12-03", "type": "state", "index": "5"}
    )
    assert isinstance(later, bytes)
    assert json.loads(gzip.decompress(later))["representative"] is None

    with pytest.raises(NotFound, match="No archives found"):
        run(runtime, "ArchiveListing", {"date": "2020-01-01"})
    with pytest.raises(NotFound, match="No archives found"):
        run(runtime, "Archive", {"date": "2024-12-03", "type": "state", "index": "4"})
    with pytest.raises(InvalidInput, match="type"):
        run(runtime, "Archive", {"date": "2024-12-03", "type": "x", "index": "1"})


def test_presentation_reports_are_empty_lists(runtime: Runtime) -> None:
    root = xml(runtime, "PresentationSession", {"start_time": "0"})
    assert etree.QName(root).localname == "presentation_session_list"
    assert len(root) == 0
    listing = xml(runtime, "PresentationSessionListing", {"start_time": "0"})
    assert etree.QName(listing).localname == "presentation_session_summary_list"
    with pytest.raises(InvalidInput):
        run(runtime, "PresentationSessionListing", {})
