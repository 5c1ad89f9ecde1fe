"""``/api/backup`` against the real server, and restores of what it sends."""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from backupkit import dump, seed_sessions
from serverkit import (
    LiveServer,
    demo_server,
    drop_database,
    fresh_database_url,
    run_server,
)
from supportbox.backup import crypto
from supportbox.backup.restore import restore
from supportbox.directory import users
from supportbox.directory.demo import ADMIN_PASSWORD, REP_PASSWORD
from supportbox.settings import Settings
from supportbox.storage.models import ApiAccount, Recording, SupportSession, User

#: Tables that do not change once the sessions are over.
STEADY = (
    "meta",
    "public_site",
    "user",
    "team",
    "team_member",
    "issue",
    "custom_field",
    "survey_question",
    "api_account",
    "support_session",
    "participant",
    "session_event",
    "survey_response",
)


@pytest.fixture(autouse=True)
def quick_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cheaper scrypt for the in-process server; test_backup_archive
    covers the real cost. The header carries it, so restore follows."""
    monkeypatch.setattr(crypto, "LOG2_N", 12)


@pytest.fixture
def seeded(server: LiveServer) -> LiveServer:
    seed_sessions(server.runtime.engine, server.data_dir)
    return server


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo server that accepts username/password on the XML APIs."""
    with demo_server(tmp_path_factory.mktemp("legacy"), legacy_api_auth=True) as live:
        yield live


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A demo server for the tests that only take backups."""
    with demo_server(tmp_path_factory.mktemp("shared")) as live:
        yield live


def token(live: LiveServer, client_id: str, secret: str) -> str:
    with live.http() as http:
        answer = http.post(
            "/oauth2/token",
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
        )
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["access_token"]
    return value


def bearer(live: LiveServer) -> dict[str, str]:
    api = live.credentials["api"]
    return {
        "Authorization": "Bearer " + token(live, api["client_id"], api["client_secret"])
    }


def restore_target(tmp_path: Path, name: str) -> Settings:
    folder = tmp_path / name
    folder.mkdir()
    url = fresh_database_url(folder)
    folder.rmdir()
    return Settings(data_dir=folder, database_url=url)


#: Reports that must read the same from the original and the restored server.
REPORTS = (
    "SupportSession",
    "SupportSessionListing",
    "SupportCustExitSurvey",
    "SupportRepExitSurvey",
)


def reports(live: LiveServer, name: str) -> str:
    """A whole-window report; signed links (per server, per moment) left out."""
    api = live.credentials["api"]
    headers = {
        "Authorization": "Bearer " + token(live, api["client_id"], api["client_secret"])
    }
    params = {"generate_report": name, "start_time": "0", "duration": "0"}
    with live.http(headers=headers) as http:
        answer = http.get("/api/reporting", params=params)
    assert answer.status_code == 200
    assert "<error" not in answer.text, answer.text
    return re.sub(r"<([a-z_]+_url)>[^<]*</\1>", "", answer.text)


def check_restored(
    live: LiveServer, archive: Path, password: str | None, target: Settings
) -> None:
    """Restore ``archive``, serve it, and compare it with ``live``."""
    try:
        result = restore(archive, target, password)
        assert result.recordings == 3

        before, after = dump(live.settings.db_url), dump(target.db_url)
        for name in STEADY:
            assert before[name] == after[name], name
        assert len(after["session_event"]) == 15

        with run_server(target, live.credentials) as restored:
            api = live.credentials["api"]
            assert token(restored, api["client_id"], api["client_secret"])
            for name in REPORTS:
                assert reports(restored, name) == reports(live, name), name
            assert reports(restored, "SupportSession").count("<session lsid=") == 3
            with restored.runtime.db() as db:
                assert users.authenticate(db, "admin", ADMIN_PASSWORD) is not None
                assert users.authenticate(db, "alice", REP_PASSWORD) is not None
                assert users.authenticate(db, "alice", "not her password") is None
                recordings = db.query(Recording).all()
            for recording in recordings:
                path = Path(recording.path)
                full = path if path.is_absolute() else target.data_dir / path
                assert full.read_bytes()[:12] == b'{"version": '
                assert full.is_relative_to(target.data_dir.resolve()) or not (
                    path.is_absolute()
                )
    finally:
        drop_database(target.db_url)


def test_a_backup_over_the_api_restores_and_serves_again(
    seeded: LiveServer, tmp_path: Path
) -> None:
    with seeded.http(headers=bearer(seeded)) as http:
        answer = http.get("/api/backup", params={"include_recordings": "1"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(
        r"attachment; filename=supportbox-\d{4}-\d{2}-\d{2}\.nsb", disposition
    )
    assert "content-length" not in answer.headers
    archive = tmp_path / "backup.nsb"
    archive.write_bytes(answer.content)
    with zipfile.ZipFile(archive) as plain:
        assert plain.namelist()[-1] == "manifest.json"

    check_restored(seeded, archive, None, restore_target(tmp_path, "plain"))


def test_a_password_in_a_json_body_encrypts_the_backup(
    seeded: LiveServer, tmp_path: Path
) -> None:
    with seeded.http(headers=bearer(seeded)) as http:
        answer = http.post(
            "/api/backup.ns?include_recordings=1", json={"password": "abc-123-xyz"}
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.content.startswith(crypto.MAGIC)
    archive = tmp_path / "backup.nsb"
    archive.write_bytes(answer.content)

    check_restored(seeded, archive, "abc-123-xyz", restore_target(tmp_path, "enc"))


def test_a_password_in_the_form_or_query_encrypts_too(shared: LiveServer) -> None:
    with shared.http(headers=bearer(shared)) as http:
        form = http.post("/api/backup", data={"password": "form pass"})
        query = http.get("/api/backup", params={"backup_password": "query pass"})
    for answer, password in ((form, "form pass"), (query, "query pass")):
        assert answer.content.startswith(crypto.MAGIC)
        out = io.BytesIO()
        crypto.decrypt(io.BytesIO(answer.content), out, password)
        assert out.getvalue().startswith(b"PK\x03\x04")


def test_bad_legacy_credentials_answer_200_with_invalid_credentials(
    legacy: LiveServer,
) -> None:
    with legacy.http() as http:
        answer = http.get(
            "/api/backup", params={"username": "admin", "password": "wrong pass"}
        )
    assert answer.status_code == 200
    assert "Invalid credentials" in answer.text
    assert not answer.content.startswith(b"PK")
    assert "attachment" not in answer.headers.get("content-disposition", "")


def test_an_administrator_signs_in_with_legacy_credentials(
    legacy: LiveServer,
) -> None:
    with legacy.http() as http:
        get = http.get(
            "/api/backup.ns", params={"username": "admin", "password": ADMIN_PASSWORD}
        )
        post = http.post(
            "/api/backup",
            params={"username": "admin", "password": ADMIN_PASSWORD},
            json={"password": "archive pass"},
        )
    assert get.status_code == 200
    assert get.content.startswith(b"PK\x03\x04")
    assert post.content.startswith(crypto.MAGIC)
    out = io.BytesIO()
    crypto.decrypt(io.BytesIO(post.content), out, "archive pass")


def test_a_user_who_is_not_an_administrator_is_refused(legacy: LiveServer) -> None:
    with legacy.runtime.db() as db, db.begin():
        db.execute(update(User).where(User.username == "alice").values(perm_api=True))
    with legacy.http() as http:
        answer = http.post(
            "/api/backup", data={"username": "alice", "password": REP_PASSWORD}
        )
    assert answer.status_code == 403
    assert "perm_backup" in answer.text


def test_legacy_credentials_are_refused_while_legacy_auth_is_off(
    shared: LiveServer,
) -> None:
    with shared.http() as http:
        answer = http.get(
            "/api/backup", params={"username": "admin", "password": ADMIN_PASSWORD}
        )
    assert answer.status_code == 401
    assert not answer.content.startswith(b"PK")


def test_an_account_without_perm_backup_is_refused(server: LiveServer) -> None:
    headers = bearer(server)
    with server.runtime.db() as db, db.begin():
        db.execute(update(ApiAccount).values(perm_backup=False))
    with server.http(headers=headers) as http:
        answer = http.get("/api/backup")
        anonymous = httpx.get(server.url + "/api/backup")
    assert answer.status_code == 403
    assert "perm_backup" in answer.text
    assert anonymous.status_code == 401


def test_a_bad_flag_is_a_clear_error(shared: LiveServer) -> None:
    with shared.http(headers=bearer(shared)) as http:
        answer = http.get("/api/backup", params={"include_recordings": "maybe"})
    assert answer.status_code == 400
    assert "include_recordings must be 1 or 0" in answer.text


def test_a_client_that_goes_away_stops_the_writer(
    shared: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="supportbox")
    big = shared.data_dir / "recordings" / "big.mp4"
    big.parent.mkdir(parents=True)
    big.write_bytes(os.urandom(48 * 1024 * 1024))
    with Session(shared.runtime.engine) as db, db.begin():
        session = SupportSession(lsid="b" * 32, start_time=time.time())
        db.add(session)
        db.flush()
        db.add(
            Recording(
                session_id=session.id,
                kind="screen",
                path="recordings/big.mp4",
                started_at=time.time(),
            )
        )

    with (
        shared.http(headers=bearer(shared)) as http,
        http.stream("GET", "/api/backup?include_recordings=1") as answer,
    ):
        assert answer.status_code == 200
        first = next(answer.iter_raw())
        assert first.startswith(b"PK")

    deadline = time.monotonic() + 10
    while any(t.name == "backup-writer" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the writer thread is still running"
        time.sleep(0.05)
    assert "backup stopped: the client went away" in caplog.text
