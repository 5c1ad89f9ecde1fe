"""generate_session_key and create_virtual_customer; redeeming keys."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from commandkit import Api, rep_offline, rep_online, user_id
from serverkit import LiveServer, demo_server
from supportbox.core import keys
from supportbox.core.queues import QueueRef
from supportbox.errors import NotFound
from supportbox.storage.models import SessionKey, SupportSession


@pytest.fixture(scope="module", params=["bomgar", "beyondtrust"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    base = tmp_path_factory.mktemp(f"keys-{request.param}")
    with demo_server(base, xml_namespace=request.param) as server:
        yield server


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Api:
    return Api.demo(live)


def children(reply_root: object) -> list[str]:
    from lxml import etree

    return [etree.QName(c).localname for c in reply_root]  # type: ignore[attr-defined]


def test_a_general_key_answers_the_recorded_elements_in_order(api: Api) -> None:
    before = time.time()
    reply = api.ok("generate_session_key", type="support", queue_id="general")
    assert reply.tag == "session_key"
    assert children(reply.root) == [
        "type",
        "expires",
        "queue",
        "short_key",
        "key_url",
        "mail_subject",
        "mail_body",
    ]
    assert reply.value("type") == "support"
    expires = int(reply.value("expires"))
    assert before + 86400 - 1 <= expires <= time.time() + 86400 + 1
    queue = reply.find("queue")
    assert queue.text == "general"
    assert queue.get("available") == "0"
    assert re.fullmatch(r"\d{7}", reply.value("short_key"))
    url = reply.value("key_url")
    assert re.fullmatch(re.escape(api.live.url) + r"/\?ak=[0-9a-f]{32}", url)
    assert reply.value("mail_subject") == "Remote Support Invitation"
    assert url in reply.value("mail_body")
    assert reply.find("short_key").attrib == {}
    assert reply.find("key_url").attrib == {}


def test_a_rep_key_names_the_queue_id_and_availability(
    api: Api, live: LiveServer
) -> None:
    alice = user_id(live, "alice")
    rep_online(live, alice)
    try:
        reply = api.ok("generate_session_key", type="support", queue_id=f"rep:{alice}")
    finally:
        rep_offline(live, alice)
    assert reply.value("queue") == "rep"
    assert reply.find("queue").get("available") == "1"
    assert reply.value("queue_id") == str(alice)


@pytest.mark.parametrize(
    ("queue_id", "kind"),
    [("rep_username:bob", "rep"), ("team:1", "team"), ("issue:printer", "issue")],
)
def test_every_queue_form_is_accepted(
    api: Api, live: LiveServer, queue_id: str, kind: str
) -> None:
    reply = api.ok("generate_session_key", type="support", queue_id=queue_id)
    assert reply.value("queue") == kind
    assert int(reply.value("queue_id")) > 0


def test_ttl_is_echoed_and_sets_the_expiry(api: Api) -> None:
    before = time.time()
    reply = api.ok(
        "generate_session_key", type="support", queue_id="general", ttl="1800"
    )
    assert children(reply.root)[:3] == ["type", "ttl", "expires"]
    assert reply.value("ttl") == "1800"
    assert before + 1799 <= int(reply.value("expires")) <= time.time() + 1801


@pytest.mark.parametrize(
    "name", ["session.custom.external_key", "external_key"], ids=["current", "legacy"]
)
def test_the_external_key_is_stored_and_echoed_before_the_short_key(
    api: Api, live: LiveServer, name: str
) -> None:
    reply = api.ok(
        "generate_session_key", type="support", queue_id="general", **{name: "INC42"}
    )
    names = children(reply.root)
    assert names.index("external_key") == names.index("short_key") - 1
    assert reply.value("external_key") == "INC42"
    with live.runtime.db() as db:
        row = db.scalar(
            select(SessionKey).where(SessionKey.short_key == reply.value("short_key"))
        )
    assert row is not None and row.external_key == "INC42"


def test_custom_fields_priority_and_skills_are_stored_with_the_key(
    api: Api, live: LiveServer
) -> None:
    reply = api.ok(
        "generate_session_key",
        type="support",
        queue_id="general",
        **{
            "session.custom.priority": "High",
            "session.priority": "1",
            "session.skills": "windows, printers",
        },
    )
    with live.runtime.db() as db:
        row = db.scalar(
            select(SessionKey).where(SessionKey.short_key == reply.value("short_key"))
        )
    assert row is not None
    assert row.custom == {"priority": "High"}
    assert row.priority == 1
    assert row.skills == ["windows", "printers"]


def test_url_hostname_is_used_in_the_key_url(api: Api) -> None:
    reply = api.ok(
        "generate_session_key",
        type="support",
        queue_id="general",
        url_hostname="support.example.com",
    )
    assert reply.value("key_url").startswith("http://support.example.com/?ak=")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"queue_id": "general"}, "parameter type is required"),
        ({"type": "presentation", "queue_id": "general"}, "not one of support"),
        ({"type": "support"}, "parameter queue_id is required"),
        ({"type": "support", "queue_id": "rep:999"}, "no representative with id 999"),
        ({"type": "support", "queue_id": "rep:abc"}, "not a positive whole number"),
        ({"type": "support", "queue_id": "rep_username:nobody"}, "no representative"),
        ({"type": "support", "queue_id": "team:999"}, "no team with id 999"),
        ({"type": "support", "queue_id": "issue:nothing"}, "no issue"),
        ({"type": "support", "queue_id": "mars:1"}, "queue_id kind"),
        ({"type": "support", "queue_id": "rep"}, "is not general"),
        ({"type": "support", "queue_id": "general", "ttl": "0"}, "ttl"),
        ({"type": "support", "queue_id": "general", "ttl": "-5"}, "ttl"),
        ({"type": "support", "queue_id": "general", "ttl": "999999999"}, "ttl"),
        (
            {"type": "support", "queue_id": "general", "session.custom.nope": "1"},
            "no custom field",
        ),
        (
            {"type": "support", "queue_id": "general", "external_key": "x" * 1025},
            "longer than 1024",
        ),
        (
            {"type": "support", "queue_id": "general", "session.priority": "9"},
            "session.priority",
        ),
        (
            {"type": "support", "queue_id": "general", "session.skills": "a b"},
            "skill",
        ),
        (
            {"type": "support", "queue_id": "general", "url_hostname": "bad host/"},
            "url_hostname",
        ),
    ],
)
def test_bad_key_requests_answer_a_clear_error(
    api: Api, params: dict[str, str], message: str
) -> None:
    assert message in api.error("generate_session_key", **params)


def test_a_virtual_customer_redeems_the_key_into_a_waiting_session(
    api: Api, live: LiveServer
) -> None:
    key = api.ok(
        "generate_session_key",
        type="support",
        queue_id="issue:printer",
        **{"session.custom.external_key": "T-1", "session.custom.priority": "Low"},
    )
    reply = api.ok(
        "create_virtual_customer",
        short_key=key.value("short_key"),
        name="Dana",
        ip_address="192.0.2.7",
        operating_system="macOS 14",
        computer_name="DANA-MAC",
        chat_url="1",
    )
    assert reply.tag == "virtual_customer"
    lsid = reply.value("lsid")
    assert re.fullmatch(r"[0-9a-f]{32}", lsid)
    download = reply.value("download_url")
    page, _, fragment = download.partition("#")
    assert page == f"{live.url}/chat/{lsid}"
    assert re.fullmatch(r"token=[A-Za-z0-9_\-]{16,}", fragment)
    with live.http() as http:
        opened = http.get(page)
    assert opened.status_code == 200
    assert lsid in opened.text

    with live.runtime.db() as db:
        session = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert session is not None
        assert session.status == "waiting"
        assert session.queue_kind == "team"
        assert session.issue_id is not None
        assert session.external_key == "T-1"
        assert session.custom == {"priority": "Low"}
        customer = session.participants[0]
        assert (customer.name, customer.hostname, customer.os) == (
            "Dana",
            "DANA-MAC",
            "macOS 14",
        )
        assert customer.info["issue"] == "Printer problem"
        used = db.scalar(
            select(SessionKey.used_by_lsid).where(
                SessionKey.short_key == key.value("short_key")
            )
        )
    assert used == lsid


def test_a_key_starts_only_one_session(api: Api) -> None:
    key = api.ok("generate_session_key", type="support", queue_id="general")
    fields = {
        "short_key": key.value("short_key"),
        "name": "Eve",
        "ip_address": "2001:db8::1",
        "operating_system": "Linux",
        "computer_name": "eve",
    }
    api.ok("create_virtual_customer", **fields)
    assert "already used" in api.error("create_virtual_customer", **fields)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"short_key": "0000000"}, "unknown, expired or already used"),
        ({"short_key": "abc"}, "unknown, expired or already used"),
        ({"ip_address": "999.1.1.1"}, "not an IP address"),
        ({"name": ""}, "parameter name is required"),
        ({"computer_name": "x" * 300}, "longer than 255"),
    ],
)
def test_bad_virtual_customer_requests_answer_a_clear_error(
    api: Api, change: dict[str, str], message: str
) -> None:
    fields = {
        "short_key": "1234567",
        "name": "Eve",
        "ip_address": "192.0.2.1",
        "operating_system": "Linux",
        "computer_name": "eve",
        **change,
    }
    assert message in api.error("create_virtual_customer", **fields)


def test_an_expired_key_cannot_be_redeemed(live: LiveServer) -> None:
    with live.runtime.db() as db, db.begin():
        key = keys.generate_key(db, QueueRef("general"), ttl=60, now=time.time() - 120)
        code = key.short_key
    with live.runtime.db() as db, db.begin(), pytest.raises(NotFound):
        keys.redeem(db, code)


def test_the_url_token_redeems_a_key_too(live: LiveServer) -> None:
    with live.runtime.db() as db, db.begin():
        token = keys.generate_key(db, QueueRef("team", 1)).url_token
    with live.runtime.db() as db, db.begin():
        key = keys.redeem(db, token)
        assert keys.key_queue(db, key).queue == QueueRef("team", 1)


def race(live: LiveServer, code: str) -> list[str]:
    """Redeem ``code`` from two threads at once; the outcomes."""
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def redeem() -> None:
        start.wait()
        try:
            with live.runtime.write_db() as db, db.begin():
                keys.redeem(db, code)
            outcomes.append("won")
        except NotFound:
            outcomes.append("lost")

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return sorted(outcomes)


def test_two_concurrent_redemptions_have_exactly_one_winner(live: LiveServer) -> None:
    for _ in range(5):
        with live.runtime.db() as db, db.begin():
            code = keys.generate_key(db, QueueRef("general")).short_key
        assert race(live, code) == ["lost", "won"]
