"""/api/reporting over real HTTP: auth, permissions, transports, links."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from reportkit import N, schema
from reportseed import Person, seed
from serverkit import LiveServer, demo_server
from supportbox.api.reporting.context import Builder, ReportContext, Stream
from supportbox.api.reporting.links import PURPOSE
from supportbox.api.reporting.registry import REPORTS, SUPPORT, Report
from supportbox.auth import links as auth_links
from supportbox.auth.links import Claims
from supportbox.core.hub import CustomerInfo, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.directory import api_accounts
from supportbox.errors import Conflict, NotFound
from supportbox.features import install
from supportbox.recording import access, store
from supportbox.recording.links import DOWNLOAD
from supportbox.runtime import open_runtime
from supportbox.storage.models import Recording

BASE = 1_700_000_000.0


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_server(tmp_path_factory.mktemp("reporting")) as server:
        yield server


def mint(live: LiveServer, client_id: str, secret: str) -> str:
    with live.http() as http:
        response = http.post(
            "/oauth2/token",
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
        )
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
def token(live: LiveServer) -> str:
    api = live.credentials["api"]
    return mint(live, api["client_id"], api["client_secret"])


@pytest.fixture(scope="module")
def support_only(live: LiveServer) -> str:
    with live.runtime.db() as db, db.begin():
        account, secret = api_accounts.create(db, "support-reports-only")
        account.perm_reporting_support = True
        client_id = account.client_id
    return mint(live, client_id, secret)


def report(live: LiveServer, token: str, **params: str) -> httpx.Response:
    with live.http(headers={"Authorization": f"Bearer {token}"}) as http:
        return http.get("/api/reporting", params=params)


def parsed(response: httpx.Response) -> etree._Element:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    root = etree.fromstring(response.content)
    schema().assertValid(root)
    return root


def error_text(response: httpx.Response) -> str:
    root = parsed(response)
    assert etree.QName(root).localname == "error"
    return str(root.text)


def chat_session(live: LiveServer, start: float, end: float | None = None) -> str:
    with live.runtime.db() as db, db.begin():
        return seed(
            db,
            start=start,
            end=end,
            people=[Person("Jane <Customer>"), Person("Alice", user="alice")],
            chats=[(start + 3, 2, "Hello <b>Jane</b> & co"), (start + 5, 1, "Hi!")],
            external_key="INC-HTTP",
        ).lsid


@pytest.mark.parametrize(
    "transport", ["get", "post_form", "post_query_empty_body", "multipart", "ns"]
)
def test_every_transport_returns_the_same_sessions(
    live: LiveServer, token: str, transport: str
) -> None:
    lsid = chat_session(live, BASE + 100, BASE + 200)
    params = {"generate_report": "SupportSession", "lsid": lsid}
    headers = {"Authorization": f"Bearer {token}"}
    with live.http(headers=headers) as http:
        if transport == "get":
            response = http.get("/api/reporting", params=params)
        elif transport == "post_form":
            response = http.post("/api/reporting", data=params)
        elif transport == "post_query_empty_body":
            response = http.post("/api/reporting", params=params, content=b"")
        elif transport == "multipart":
            files = {k: (None, v) for k, v in params.items()}
            response = http.post("/api/reporting", files=files)
        else:
            response = http.post("/api/reporting.ns", data=params)
    root = parsed(response)
    assert [s.get("lsid") for s in root.findall("r:session", N)] == [lsid]
    assert root.findtext("r:session/r:external_key", namespaces=N) == "INC-HTTP"
    assert response.headers["connection"] == "close"
    assert "no-store" in response.headers["cache-control"]


def test_unknown_reports_and_bad_parameters_get_an_error_document(
    live: LiveServer, token: str
) -> None:
    response = report(live, token, generate_report="NoSuchReport")
    assert error_text(response) == "Invalid report type: NoSuchReport."
    assert error_text(report(live, token)) == "Invalid report type: (none)."
    bad = report(live, token, generate_report="SupportSession", start_time="x")
    assert error_text(bad).startswith("Invalid start_time")
    clash = report(
        live, token, generate_report="SupportSession", start_time="1", end_time="2"
    )
    assert error_text(clash).startswith("Conflicting time window")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n\n')


def test_a_missing_token_is_refused_with_401(live: LiveServer) -> None:
    with live.http() as http:
        response = http.get("/api/reporting", params={"generate_report": "Archive"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("name", "permission"),
    [
        ("LicenseUsage", "perm_reporting_license"),
        ("ArchiveListing", "perm_reporting_archive"),
        ("Archive", "perm_reporting_archive"),
        ("PresentationSession", "perm_reporting_presentation"),
        ("PresentationSessionRecording", "perm_reporting_presentation"),
    ],
)
def test_each_report_family_needs_its_own_permission(
    live: LiveServer, support_only: str, name: str, permission: str
) -> None:
    response = report(live, support_only, generate_report=name, start_time="0")
    assert error_text(response) == (
        f"This API account is not allowed to run {name} reports "
        f"(it needs {permission})."
    )
    allowed = report(
        live, support_only, generate_report="SupportSessionListing", start_time="0"
    )
    assert etree.QName(parsed(allowed)).localname == "session_summary_list"


def test_the_schema_is_served_and_validates_the_reports(live: LiveServer) -> None:
    with live.http() as http:
        response = http.get("/api/reporting.xsd")
    assert response.status_code == 200
    served = etree.XMLSchema(etree.fromstring(response.content))
    doc = etree.fromstring(
        b'<session_list xmlns="http://www.bomgar.com/namespaces/API/reporting"/>'
    )
    assert served.validate(doc)


def test_transcript_links_serve_a_page_and_a_text_file(
    live: LiveServer, token: str
) -> None:
    lsid = chat_session(live, BASE + 300, BASE + 400)
    root = parsed(report(live, token, generate_report="SupportSession", lsid=lsid))
    view = str(root.findtext("r:session/r:session_chat_view_url", namespaces=N))
    download = str(root.findtext("r:session/r:session_chat_download_url", namespaces=N))
    with live.http() as http:
        page = http.get(view)
        text = http.get(download)
        query = parse_qs(urlsplit(download).query)
        forged = query["lsid"][0][:-3] + "abc"
        tampered = http.get(
            "/session_download", params={"lsid": forged, "dl_action": "chat"}
        )
        wrong_action = http.get(
            "/session_download", params={"lsid": query["lsid"][0], "dl_action": "shell"}
        )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Hello &lt;b&gt;Jane&lt;/b&gt; &amp; co" in page.text
    assert "Jane &lt;Customer&gt;" in page.text
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/plain")
    assert "attachment" in text.headers["content-disposition"]
    when = datetime.fromtimestamp(int(BASE + 303), UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert f"[{when} UTC] Alice: Hello <b>Jane</b> & co" in text.text
    assert "Jane <Customer>: Hi!" in text.text
    assert tampered.status_code == 403
    assert wrong_action.status_code == 403


def test_shell_recordings_download_and_missing_ones_get_errors(
    live: LiveServer, token: str
) -> None:
    cast = live.data_dir / "recordings" / "shell0.cast"
    cast.parent.mkdir(exist_ok=True)
    content = b'{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "$ ls\\r\\n"]\n'
    cast.write_bytes(content)
    with live.runtime.db() as db, db.begin():
        lsid = seed(
            db,
            start=BASE + 500,
            end=BASE + 600,
            recordings=[
                ("shell", 0, "recordings/shell0.cast"),
                ("shell", 1, str(live.data_dir / "recordings" / "gone.cast")),
            ],
        ).lsid
    found = report(live, token, generate_report="CommandShellRecording", lsid=lsid)
    assert found.status_code == 200
    assert found.content == content
    assert found.headers["content-type"].startswith("application/x-asciicast")
    assert f'filename="{lsid}-shell-0.cast"' in found.headers["content-disposition"]
    gone = report(
        live, token, generate_report="CommandShellRecording", lsid=lsid, instance="1"
    )
    assert error_text(gone) == (
        "This recording has expired and can no longer be viewed or downloaded."
    )
    none = report(
        live, token, generate_report="CommandShellRecording", lsid=lsid, instance="7"
    )
    assert error_text(none) == "No recording exists for the given session."
    screen = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)
    assert error_text(screen) == "No recording exists for the given session."
    presentation = report(
        live, token, generate_report="PresentationSessionRecording", lsid=lsid
    )
    assert error_text(presentation) == "No recording exists for the given session."
    unknown = report(
        live, token, generate_report="SupportSessionRecording", lsid="a" * 32
    )
    assert error_text(unknown) == "No session matches the given lsid."

    root = parsed(report(live, token, generate_report="SupportSession", lsid=lsid))
    url = root.findtext(
        "r:session/r:command_shell_recordings/r:command_shell_recording/r:download_url",
        namespaces=N,
    )
    with live.http() as http:
        linked = http.get(str(url))
    assert linked.status_code == 200 and linked.content == content


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("instance", {"generate_report": "CommandShellRecording", "instance": "²"}),
        ("team_id", {"generate_report": "SupportTeam", "team_id": "²"}),
        ("id", {"generate_report": "SupportCustExitSurvey", "id": "²"}),
        ("index", {"generate_report": "Archive", "index": "²", "type": "state"}),
    ],
)
def test_unicode_digits_in_a_number_get_an_error_document(
    live: LiveServer, token: str, name: str, params: dict[str, str]
) -> None:
    lsid = chat_session(live, BASE + 700, BASE + 800)
    answer = report(live, token, lsid=lsid, date="2023-11-20", start_time="0", **params)
    assert error_text(answer).startswith(f"Invalid {name}: '²'")


def test_a_reports_shell_view_url_when_fetched_writes_the_access_trail(
    live: LiveServer, token: str
) -> None:
    cast = live.data_dir / "recordings" / "audited.cast"
    cast.parent.mkdir(exist_ok=True)
    cast.write_bytes(b'{"version": 2, "width": 80, "height": 24}\n')
    with live.runtime.db() as db, db.begin():
        seeded = seed(
            db,
            start=BASE + 700,
            end=BASE + 800,
            recordings=[("shell", 0, "recordings/audited.cast")],
        )
    root = parsed(
        report(live, token, generate_report="SupportSession", lsid=seeded.lsid)
    )
    url = str(
        root.findtext(
            "r:session/r:command_shell_recordings/r:command_shell_recording/r:view_url",
            namespaces=N,
        )
    )
    assert urlsplit(url).path == "/recordings/view"
    with live.http() as http:
        page = http.get(url)
    assert page.status_code == 200
    with live.runtime.db() as db:
        recording = db.scalar(
            select(Recording).where(Recording.path == "recordings/audited.cast")
        )
        assert recording is not None
        trail = access.history(db, recording.id)
        assert [(a.action, a.actor) for a in trail] == [
            ("view", "api:demo-integration")
        ]


def test_forged_expired_and_non_ascii_download_tokens_get_403(live: LiveServer) -> None:
    signer = auth_links.signer(live.runtime)
    lsid = "a" * 32
    expired = signer.sign(Claims(PURPOSE, f"{lsid}/chat/0", "api:x", 1))
    genuine = signer.sign(Claims(PURPOSE, f"{lsid}/chat/0", "api:x", 2_000_000_000))
    shell_expired = signer.sign(Claims(DOWNLOAD, f"{lsid}/shell/0", "api:x", 1))
    with live.http() as http:
        answers = [
            http.get("/session_download", params={"lsid": t, "dl_action": "chat"})
            for t in (expired, genuine[:-2] + "éé", "é.ü", "x" * 5000, "")
        ]
        answers += [
            http.get(path, params={"t": t})
            for path in ("/recordings/view", "/recordings/download")
            for t in (shell_expired, genuine, "ünï.cödé", genuine[:-1] + "\u2028")
        ]
    assert [a.status_code for a in answers] == [403] * len(answers)
    assert "expired" in answers[0].text


def test_archives_arrive_gzip_compressed(live: LiveServer, token: str) -> None:
    day = datetime(2023, 11, 20, tzinfo=UTC).timestamp()
    lsid = chat_session(live, day + 3600 + 60, day + 3600 + 900)
    listing = parsed(
        report(live, token, generate_report="ArchiveListing", date="2023-11-20")
    )
    assert [i.text for i in listing.iterfind("r:event_archive/r:index", N)] == [
        "7",
        "8",
    ]
    response = report(
        live,
        token,
        generate_report="Archive",
        date="2023-11-20",
        type="event",
        index="7",
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    lines = gzip.decompress(response.content).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["lsid"] for r in records} == {lsid}
    assert records[0]["event_type"] == "Session Start"
    missing = report(
        live,
        token,
        generate_report="Archive",
        date="2023-11-20",
        type="event",
        index="9",
    )
    assert error_text(missing) == "No archives found for the given search criteria."


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_client_that_goes_away_stops_the_report(live: LiveServer, token: str) -> None:
    with live.runtime.db() as db, db.begin():
        for i in range(1500):
            seed(db, start=BASE + 10_000 + i, end=BASE + 10_001 + i, site=None)
    params = {
        "generate_report": "SupportSession",
        "start_time": str(int(BASE + 10_000)),
        "duration": "1500",
    }
    headers = {"Authorization": f"Bearer {token}"}
    collect = Collect()
    logger = logging.getLogger("supportbox")
    logger.addHandler(collect)
    level = logger.level
    logger.setLevel(logging.INFO)
    with (
        httpx.Client(base_url=live.url, headers=headers, timeout=10) as http,
        http.stream("GET", "/api/reporting", params=params) as response,
    ):
        first = next(response.iter_raw())
        assert first.startswith(b"<?xml")
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline:
            if any("client went away" in m for m in collect.messages):
                break
            time.sleep(0.05)
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
    stopped = [m for m in collect.messages if "client went away" in m]
    assert stopped == ["report SupportSession stopped: the client went away"]


def test_a_session_run_through_the_hub_is_reported(
    live: LiveServer, token: str
) -> None:
    runtime = open_runtime(live.settings)
    install(runtime)

    async def scenario() -> tuple[str, float]:
        hub = runtime.services["hub"]
        request = SessionRequest(
            queue=QueueRef("team", 1),
            customer=CustomerInfo(
                name="Jane", company="Acme", issue="Printer problem", hostname="JANE-PC"
            ),
            external_key="INC-HUB-1",
        )
        started = time.time()
        opened = await hub.open_session(request)
        rep_gs = await hub.accept(opened.lsid, 1)
        await hub.chat(opened.lsid, rep_gs, "Hello Jane")
        await hub.chat(opened.lsid, opened.customer_gs, "Hi!")
        await hub.end(opened.lsid, rep_gs)
        return opened.lsid, started

    try:
        lsid, started = asyncio.run(scenario())
    finally:
        runtime.engine.dispose()

    root = parsed(report(live, token, generate_report="SupportSession", lsid=lsid))
    session = root.find("r:session", N)
    assert session is not None
    assert session.findtext("r:external_key", namespaces=N) == "INC-HUB-1"
    end = session.find("r:end_time", N)
    assert end is not None and int(str(end.get("timestamp"))) >= int(started)
    assert session.find("r:session_chat_view_url", N) is not None
    customer = session.find("r:customer_list/r:customer", N)
    assert customer is not None
    assert customer.findtext("r:hostname", namespaces=N) == "JANE-PC"
    assert customer.findtext("r:info/r:company", namespaces=N) == "Acme"
    rep = session.find("r:rep_list/r:representative", N)
    assert rep is not None and rep.get("id") == "1"
    assert rep.findtext("r:username", namespaces=N) == "alice"
    primary = session.find("r:primary_rep", N)
    assert primary is not None and primary.get("gsnumber") == str(rep.get("gsnumber"))
    types = [e.get("event_type") for e in session.iterfind(".//r:event", N)]
    assert types[0] == "Session Start" and types[-1] == "Session End"
    chats = [
        e.findtext("r:body", namespaces=N)
        for e in session.iterfind(".//r:event", N)
        if e.get("event_type") == "Chat Message"
    ]
    assert chats == ["Hello Jane", "Hi!"]


def _raise(exc: Exception) -> Builder:
    def build(ctx: ReportContext) -> Stream:
        raise exc

    return build


def test_any_error_of_a_report_becomes_an_error_document(
    live: LiveServer,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = Report("Refused", SUPPORT, _raise(Conflict("the report is busy")))
    broken = Report("Broken", SUPPORT, _raise(RuntimeError("secret detail")))
    monkeypatch.setitem(REPORTS, "Refused", refused)
    monkeypatch.setitem(REPORTS, "Broken", broken)

    assert error_text(report(live, token, generate_report="Refused")) == (
        "the report is busy"
    )
    with caplog.at_level(logging.ERROR, logger="supportbox"):
        crashed = error_text(report(live, token, generate_report="Broken"))
    assert "secret detail" not in crashed
    assert crashed.startswith("the server could not complete the request")
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info is not None


def test_a_recording_path_outside_the_data_directory_is_never_served(
    live: LiveServer, token: str
) -> None:
    escape = "../../../../../../../../etc/passwd"
    with live.runtime.db() as db, db.begin():
        seeded = seed(
            db,
            start=BASE + 900,
            end=BASE + 950,
            recordings=[("shell", 0, escape), ("screen", 0, "/etc/passwd")],
        )
        rows = list(db.scalars(select(Recording).order_by(Recording.id.desc())))[:2]
        for row in rows:
            with pytest.raises(NotFound):
                store.absolute(live.runtime.settings, row)
    lsid = seeded.lsid
    shell = report(live, token, generate_report="CommandShellRecording", lsid=lsid)
    screen = report(live, token, generate_report="SupportSessionRecording", lsid=lsid)
    root = parsed(report(live, token, generate_report="SupportSession", lsid=lsid))
    session = root.find("r:session", N)
    assert session is not None
    urls = [
        str(session.findtext(f"r:{name}", namespaces=N))
        for name in ("session_recording_view_url", "session_recording_download_url")
    ]
    urls += [
        str(
            session.findtext(
                f"r:command_shell_recordings/r:command_shell_recording/r:{n}",
                namespaces=N,
            )
        )
        for n in ("view_url", "download_url")
    ]
    with live.http() as http:
        linked = [http.get(url) for url in urls]
    assert (
        error_text(shell)
        == error_text(screen)
        == ("This recording has expired and can no longer be viewed or downloaded.")
    )
    assert [r.status_code for r in linked] == [404] * 4
    assert all("root:" not in r.text for r in linked)


def test_a_screen_recording_behind_session_download_is_audited(
    live: LiveServer, token: str
) -> None:
    video = live.data_dir / "recordings" / "screen-audited.mp4"
    video.parent.mkdir(exist_ok=True)
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with live.runtime.db() as db, db.begin():
        seeded = seed(
            db,
            start=BASE + 960,
            end=BASE + 990,
            recordings=[("screen", 0, "recordings/screen-audited.mp4")],
        )
    root = parsed(
        report(live, token, generate_report="SupportSession", lsid=seeded.lsid)
    )
    download = str(
        root.findtext("r:session/r:session_recording_download_url", namespaces=N)
    )
    assert urlsplit(download).path == "/session_download"
    with live.http() as http:
        served = http.get(download)
        viewed = http.get(download + "&view=1")
    assert served.status_code == viewed.status_code == 200
    assert served.content == video.read_bytes()
    with live.runtime.db() as db:
        row = db.scalar(
            select(Recording).where(Recording.path == "recordings/screen-audited.mp4")
        )
        assert row is not None
        trail = access.history(db, row.id)
        assert [(a.action, a.actor, a.client_ip) for a in trail] == [
            ("download", "api:demo-integration", "127.0.0.1"),
            ("view", "api:demo-integration", "127.0.0.1"),
        ]
