import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from reportkit import N, lsids, run, xml
from reportseed import Person, seed
from supportbox.api.reporting.links import PURPOSE
from supportbox.auth import links as auth_links
from supportbox.errors import InvalidInput
from supportbox.recording.links import DOWNLOAD
from supportbox.runtime import Runtime, open_runtime
from supportbox.settings import Settings

T0 = 1_733_239_565.25  # 2024-12-03T15:26:05+00:00
ORDER = [
    "session_type",
    "lseq",
    "start_time",
    "end_time",
    "duration",
    "public_site",
    "external_key",
    "custom_attributes",
    "session_chat_view_url",
    "session_chat_download_url",
    "command_shell_recordings",
    "file_transfer_count",
    "file_move_count",
    "file_delete_count",
    "primary_customer",
    "primary_rep",
    "customer_list",
    "rep_list",
    "session_details",
    "cust_survey_list",
    "rep_survey_list",
]


@pytest.fixture
def runtime(demo_settings: tuple[Settings, dict[str, Any]]) -> Iterator[Runtime]:
    live = open_runtime(demo_settings[0])
    yield live
    live.engine.dispose()


def jane() -> Person:
    return Person(
        "Jane Customer",
        info={
            "name": "Jane Customer",
            "company": "Acme",
            "company_code": "1234",
            "issue": "Printer problem",
            "details": "Printer offline",
        },
    )


def full_session(runtime: Runtime) -> str:
    alice = Person(
        "Alice",
        user="alice",
        joined=T0 + 5,
        public_ip="[2a01:e34::d987]:56722",
        hostname="REP-LAPTOP",
        owner=True,
    )
    with runtime.db() as db, db.begin():
        seeded = seed(
            db,
            start=T0,
            end=T0 + 902,
            people=[jane(), alice],
            chats=[(T0 + 36, 2, "Hello, how can I help?"), (T0 + 40, 1, "bad\x01byte")],
            extra_events=[
                {
                    "timestamp": T0 + 135,
                    "event_type": "File Upload",
                    "performed_by": {
                        "type": "representative",
                        "gsnumber": 2,
                        "name": "Alice",
                    },
                    "filename": "C:\\Temp\\driver.exe",
                    "filesize": 1024000,
                },
                {
                    "timestamp": T0 + 200,
                    "event_type": "System Information Retrieved",
                    "system_information": [
                        {"name": "Drives", "fields": ["Letter"], "rows": [["C:"]]}
                    ],
                },
            ],
            external_key="INC0012345",
            custom={"priority": "High"},
            surveys=[
                ("customer", 1, T0 + 950, {"rating": "5", "comments": "Great\nhelp"}),
                ("rep", 2, T0 + 960, {"resolved": "yes"}),
            ],
            recordings=[("shell", 0, "recordings/x.cast")],
            files=(2, 0, 1),
        )
    return seeded.lsid


def test_a_support_session_carries_every_element_in_the_spec_order(
    runtime: Runtime,
) -> None:
    lsid = full_session(runtime)
    root = xml(runtime, "SupportSession", {"lsid": lsid})
    (session,) = root.findall("r:session", N)
    assert session.get("lsid") == lsid
    tags = [etree.QName(child).localname for child in session]
    assert tags == ORDER

    def text(path: str) -> str:
        return str(session.findtext(path, namespaces=N))

    assert text("r:session_type") == "support"
    assert text("r:lseq").isdigit()
    start = session.find("r:start_time", N)
    assert start is not None
    assert start.get("timestamp") == "1733239565"
    assert start.text == "2024-12-03T15:26:05+00:00"
    end = session.find("r:end_time", N)
    assert end is not None
    assert end.get("timestamp") == "1733240467"
    assert end.text == "2024-12-03T15:41:07+00:00"
    assert text("r:duration") == "00:15:02"
    site = session.find("r:public_site", N)
    assert site is not None and site.text == "Support" and site.get("id") == "1"
    assert text("r:external_key") == "INC0012345"
    attribute = session.find("r:custom_attributes/r:custom_attribute", N)
    assert attribute is not None
    assert attribute.attrib == {"display_name": "Priority", "code_name": "priority"}
    assert attribute.text == "High"
    assert [text(f"r:file_{x}_count") for x in ("transfer", "move", "delete")] == [
        "2",
        "0",
        "1",
    ]
    primary = session.find("r:primary_customer", N)
    assert primary is not None and primary.get("gsnumber") == "1"
    assert primary.text == "Jane Customer"
    rep = session.find("r:primary_rep", N)
    assert rep is not None and rep.text == "Alice"
    assert rep.attrib == {"gsnumber": "2", "id": "1"}


def test_customer_and_rep_lists_describe_each_participant(runtime: Runtime) -> None:
    lsid = full_session(runtime)
    root = xml(runtime, "SupportSession", {"lsid": lsid})
    customer = root.find("r:session/r:customer_list/r:customer", N)
    assert customer is not None and customer.get("gsnumber") == "1"
    assert [etree.QName(c).localname for c in customer] == [
        "username",
        "public_ip",
        "private_ip",
        "hostname",
        "os",
        "primary_cust",
        "info",
    ]
    assert customer.findtext("r:public_ip", namespaces=N) == "203.0.113.7:50123"
    assert customer.findtext("r:primary_cust", namespaces=N) == "1"
    assert customer.findtext("r:info/r:company_code", namespaces=N) == "1234"
    assert customer.findtext("r:info/r:issue", namespaces=N) == "Printer problem"

    rep = root.find("r:session/r:rep_list/r:representative", N)
    assert rep is not None and rep.get("gsnumber") == "2" and rep.get("id") == "1"
    assert rep.findtext("r:username", namespaces=N) == "alice"
    assert rep.findtext("r:display_name", namespaces=N) == "Alice"
    assert rep.findtext("r:private_display_name", namespaces=N) == (
        "Alice (Tech Support)"
    )
    assert rep.findtext("r:public_ip", namespaces=N) == "[2a01:e34::d987]:56722"
    assert rep.findtext("r:session_owner", namespaces=N) == "1"
    assert rep.find("r:invited", N) is None
    assert rep.findtext("r:seconds_involved", namespaces=N) == "897"


def test_session_details_hold_every_stored_event_in_order(runtime: Runtime) -> None:
    lsid = full_session(runtime)
    root = xml(runtime, "SupportSession", {"lsid": lsid})
    found = root.findall("r:session/r:session_details/r:event", N)
    assert [e.get("event_type") for e in found] == [
        "Session Start",
        "Conference Member Added",
        "Conference Member Added",
        "Chat Message",
        "Chat Message",
        "File Upload",
        "System Information Retrieved",
        "Session End",
    ]
    assert found[0].get("timestamp") == "1733239565"
    added = found[2]
    destination = added.find("r:destination", N)
    assert destination is not None
    assert destination.attrib == {"type": "representative", "gsnumber": "2"}
    assert destination.text == "Alice"
    values = [(v.get("name"), v.get("value")) for v in added.iterfind(".//r:value", N)]
    assert values == [("public_name", "Alice"), ("os", "Windows 11 Pro")]
    chat = found[3]
    assert chat.findtext("r:body", namespaces=N) == "Hello, how can I help?"
    by = chat.find("r:performed_by", N)
    assert by is not None and by.get("gsnumber") == "2"
    # A body XML cannot carry travels base64-encoded instead.
    assert found[4].find("r:body", N) is None
    encoded = found[4].findtext("r:encoded_body", namespaces=N)
    assert base64.b64decode(str(encoded)).decode() == "bad\x01byte"
    upload = found[5]
    assert upload.findtext("r:filename", namespaces=N) == "C:\\Temp\\driver.exe"
    assert upload.findtext("r:filesize", namespaces=N) == "1024000"
    row = found[6].find("r:system_information/r:category/r:data/r:row/r:field", N)
    assert row is not None and row.text == "C:"
    assert row.get("name") == "Letter" and row.get("id") == "Letter"


def test_surveys_and_shell_recordings_are_listed(runtime: Runtime) -> None:
    lsid = full_session(runtime)
    root = xml(runtime, "SupportSession", {"lsid": lsid})
    cust = root.find("r:session/r:cust_survey_list/r:cust_exit_survey", N)
    assert cust is not None and cust.get("gsnumber") == "1"
    assert [(v.get("name"), v.get("value")) for v in cust] == [
        ("rating", "5"),
        ("comments", "Great\\nhelp"),
    ]
    rep = root.find("r:session/r:rep_survey_list/r:rep_exit_survey", N)
    assert rep is not None
    assert [(v.get("name"), v.get("value")) for v in rep] == [("resolved", "yes")]
    shell = root.find(
        "r:session/r:command_shell_recordings/r:command_shell_recording", N
    )
    assert shell is not None
    assert shell.findtext("r:instance", namespaces=N) == "0"
    url = urlsplit(str(shell.findtext("r:download_url", namespaces=N)))
    query = parse_qs(url.query)
    assert url.path == "/recordings/download"
    claims = auth_links.load(runtime.write_db).verify(query["t"][0], DOWNLOAD)
    assert claims.subject == f"{lsid}/shell/0"
    assert claims.audience == "api:test"
    view = urlsplit(str(shell.findtext("r:view_url", namespaces=N)))
    assert view.path == "/recordings/view"


def test_chat_urls_are_signed_links_for_ended_sessions_only(runtime: Runtime) -> None:
    ended = full_session(runtime)
    with runtime.db() as db, db.begin():
        live = seed(db, start=T0 + 10, people=[jane()]).lsid
    root = xml(runtime, "SupportSession", {"lsids": f"{ended},{live}"}, now=T0 + 70)
    first, second = root.findall("r:session", N)
    view = str(first.findtext("r:session_chat_view_url", namespaces=N))
    download = str(first.findtext("r:session_chat_download_url", namespaces=N))
    assert view == download + "&view=1"
    assert download.startswith(f"{runtime.settings.base_url}/session_download?lsid=")
    assert "dl_action=chat" in download
    token = parse_qs(urlsplit(download).query)["lsid"][0]
    claims = auth_links.load(runtime.write_db).verify(token, PURPOSE, now=T0 + 70)
    assert claims.subject == f"{ended}/chat/0"
    assert claims.expires_at == int(T0 + 70) + 3600

    # In progress: an empty end_time, no transcript yet, duration so far.
    assert second.get("lsid") == live
    end = second.find("r:end_time", N)
    assert end is not None and end.text is None and end.attrib == {}
    assert second.find("r:session_chat_view_url", N) is None
    assert second.findtext("r:duration", namespaces=N) == "00:01:00"


def test_lsid_queries_ignore_unknown_sessions_and_refuse_malformed_ones(
    runtime: Runtime,
) -> None:
    root = xml(runtime, "SupportSession", {"lsid": "0" * 32})
    assert lsids(root) == []
    with pytest.raises(InvalidInput, match="Invalid lsid"):
        run(runtime, "SupportSession", {"lsid": "not-an-lsid"})
    with pytest.raises(InvalidInput, match="Missing time window"):
        run(runtime, "SupportSession", {})


def test_start_windows_include_open_sessions_and_end_windows_exclude_them(
    runtime: Runtime,
) -> None:
    with runtime.db() as db, db.begin():
        before = seed(db, start=999.9, end=1005).lsid
        at_start = seed(db, start=1000, end=1060).lsid
        open_one = seed(db, start=1030).lsid
        at_end = seed(db, start=1060, end=1070).lsid
    now = 5000.0
    starts = xml(
        runtime, "SupportSession", {"start_time": "1000", "duration": "60"}, now
    )
    assert lsids(starts) == [at_start, open_one]
    ends = xml(runtime, "SupportSession", {"end_time": "1005", "duration": "0"}, now)
    assert lsids(ends) == [before, at_start, at_end]
    ends = xml(runtime, "SupportSession", {"end_time": "1005", "duration": "55"}, now)
    assert lsids(ends) == [before]


def test_the_listing_names_sessions_keys_and_recordings(runtime: Runtime) -> None:
    recorded = full_session(runtime)
    with runtime.db() as db, db.begin():
        plain = seed(db, start=T0 + 1, end=T0 + 2).lsid
    text = run(
        runtime, "SupportSessionListing", {"start_time": str(int(T0)), "duration": "0"}
    )
    assert isinstance(text, str)
    assert (
        f'<session_summary lsid="{recorded}" external_key="INC0012345" '
        'has_recording="1" />' in text
    )
    assert f'<session_summary lsid="{plain}" has_recording="0" />' in text
    root = xml(
        runtime, "SupportSessionListing", {"start_time": str(int(T0)), "duration": "0"}
    )
    assert etree.QName(root).localname == "session_summary_list"


def test_many_sessions_stream_in_batches_in_lseq_order(runtime: Runtime) -> None:
    with runtime.db() as db, db.begin():
        made = [seed(db, start=2000 + i, end=2100 + i).lsid for i in range(1203)]
    root = xml(runtime, "SupportSession", {"start_time": "2000", "duration": "0"})
    assert lsids(root) == made
