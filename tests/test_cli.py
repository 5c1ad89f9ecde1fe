"""The supportbox command, run as a user runs it: a real process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from serverkit import free_socket
from supportbox.cli.main import main

SUPPORTBOX = [sys.executable, "-m", "supportbox"]


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command in this process (fast), as a process would see it."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = int(exit_.code or 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command as a real process."""
    return subprocess.run(
        [*SUPPORTBOX, *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def store(data_dir: Path, database_url: str) -> list[str]:
    """Flags naming a fresh, initialised (not demo) database."""
    flags = ["--data-dir", str(data_dir), "--database-url", database_url]
    assert run("init", *flags).returncode == 0
    return flags


def assert_one_clear_line(result: subprocess.CompletedProcess[str], says: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("supportbox: error: ")
    assert says in lines[0]


def test_init_prepares_the_database_and_says_so(store: list[str]) -> None:
    result = run("init", *store)
    assert result.returncode == 0
    assert result.stdout.startswith("database ready at revision ")


def test_user_create_then_list_shows_the_user(store: list[str]) -> None:
    created = run(
        "user",
        "create",
        *store,
        "--username",
        "dana",
        "--password",
        "correct horse",
        "--display-name",
        "Dana",
        "--admin",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "created user dana (id 1)\n"

    listed = run("user", "list", *store, "--json")
    users = json.loads(listed.stdout)
    assert users == [
        {
            "id": 1,
            "username": "dana",
            "display_name": "Dana",
            "admin": "yes",
            "enabled": "yes",
        }
    ]


def test_password_can_come_from_the_environment(store: list[str]) -> None:
    result = run(
        "user",
        "create",
        *store,
        "--username",
        "eve",
        env={"SUPPORTBOX_PASSWORD": "a long secret"},
    )
    assert result.returncode == 0, result.stderr


def test_duplicate_username_is_one_clear_line(store: list[str]) -> None:
    args = ["user", "create", *store, "--username", "x1", "--password", "good password"]
    assert run(*args).returncode == 0
    assert_one_clear_line(run(*args), "username 'x1' is taken")


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("", "password is empty"),
        ("short", "shorter than 8"),
        ("aaaaaaaaaa", "fewer than 4"),
    ],
)
def test_weak_or_empty_password_is_refused(
    store: list[str], password: str, says: str
) -> None:
    result = run("user", "create", *store, "--username", "w", "--password", password)
    assert_one_clear_line(result, says)


def test_unknown_team_is_one_clear_line(store: list[str]) -> None:
    result = run(
        "issue",
        "create",
        *store,
        "--code-name",
        "vpn",
        "--display-name",
        "VPN",
        "--team",
        "nobody",
    )
    assert_one_clear_line(result, "no team 'nobody'")


def test_team_issue_lifecycle(store: list[str]) -> None:
    team = run("team", "create", *store, "--name", "Field Ops")
    assert team.stdout == "created team Field Ops (id 1, code name field_ops)\n"
    assert (
        run(
            "user", "create", *store, "--username", "fo", "--password", "fo password"
        ).returncode
        == 0
    )
    member = run(
        "team",
        "add-member",
        *store,
        "--team",
        "field_ops",
        "--username",
        "fo",
        "--role",
        "lead",
    )
    assert member.stdout == "fo is lead of Field Ops\n"
    issue = run(
        "issue",
        "create",
        *store,
        "--code-name",
        "vpn",
        "--display-name",
        "VPN",
        "--team",
        "field_ops",
    )
    assert issue.returncode == 0
    assert_one_clear_line(
        run("team", "delete", *store, "--team", "field_ops"), "still owns issues"
    )
    assert (
        run(
            "issue", "update", *store, "--issue", "vpn", "--display-name", "VPN down"
        ).returncode
        == 0
    )
    listed = json.loads(run("issue", "list", *store, "--json").stdout)
    assert listed[0]["display_name"] == "VPN down"
    assert run("issue", "delete", *store, "--issue", "vpn").returncode == 0
    assert run("team", "delete", *store, "--team", "field_ops").returncode == 0
    assert json.loads(run("team", "list", *store, "--json").stdout) == []


def test_api_account_create_prints_the_secret_once_as_json(store: list[str]) -> None:
    result = run(
        "api-account",
        "create",
        *store,
        "--name",
        "snow",
        "--command",
        "read_only",
        "--reporting",
        "--json",
    )
    credentials = json.loads(result.stdout)
    assert len(credentials["client_id"]) == 40
    assert len(credentials["client_secret"]) >= 32

    listed = json.loads(run("api-account", "list", *store, "--json").stdout)
    assert listed[0]["command"] == "read_only"
    assert credentials["client_secret"] not in json.dumps(listed)

    again = json.loads(
        run(
            "api-account", "regenerate-secret", *store, "--name", "snow", "--json"
        ).stdout
    )
    assert again["client_id"] == credentials["client_id"]
    assert again["client_secret"] != credentials["client_secret"]
    assert run("api-account", "disable", *store, "--name", "snow").returncode == 0


def test_unwritable_data_directory_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_process("init", "--data-dir", str(blocker / "data"))
    assert_one_clear_line(result, "is not writable")


def test_a_database_from_a_newer_version_is_refused(
    store: list[str], database_url: str
) -> None:
    engine = create_engine(database_url.replace("postgresql:", "postgresql+psycopg:"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert_one_clear_line(run("user", "list", *store), "written by a newer supportbox")
    assert_one_clear_line(run("init", *store), "written by a newer supportbox")


def test_serve_refuses_a_database_that_was_never_initialised(tmp_path: Path) -> None:
    data = tmp_path / "empty"
    data.mkdir()
    result = run_process("serve", "--data-dir", str(data))
    assert_one_clear_line(result, "run 'supportbox init'")


def test_serve_on_a_taken_port_says_so_in_one_line(store: list[str]) -> None:
    taken = free_socket()
    taken.listen()
    port = taken.getsockname()[1]
    try:
        result = run_process("serve", *store, "--port", str(port))
    finally:
        taken.close()
    assert_one_clear_line(result, f"cannot listen on 127.0.0.1:{port}")
    assert result.returncode == 1
    assert "Address already in use" in result.stderr


@pytest.mark.parametrize(
    ("given", "listens"),
    [
        ({}, "--host 127.0.0.1 --port 8080"),
        ({"SUPPORTBOX_PORT": "8081"}, "--host 127.0.0.1 --port 8081"),
        ({"SUPPORTBOX_PORT": "8081", "PORT": "9000"}, "--host 127.0.0.1 --port 9000"),
        ({"SUPPORTBOX_HOST": "0.0.0.0"}, "--host 0.0.0.0 --port 8080"),
    ],
)
def test_make_run_listens_where_the_settings_say(
    given: dict[str, str], listens: str
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOST", "PORT", "SUPPORTBOX_HOST", "SUPPORTBOX_PORT")
    }
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "run"],
        cwd=Path(__file__).parent.parent,
        env={**env, **given},
        capture_output=True,
        text=True,
        timeout=60,
    )
    serve = [line for line in result.stdout.splitlines() if " serve " in line]
    assert len(serve) == 1 and serve[0].endswith(listens), result.stdout


def test_a_bad_setting_names_its_source(store: list[str]) -> None:
    result = run("serve", *store, "--port", "99999")
    assert_one_clear_line(result, "--port")
    result = run("serve", *store, env={"SUPPORTBOX_XML_NAMESPACE": "acme"})
    assert_one_clear_line(result, "SUPPORTBOX_XML_NAMESPACE")


def test_serve_answers_then_stops_gracefully_on_sigterm(store: list[str]) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    process = subprocess.Popen(
        [*SUPPORTBOX, "serve", *store, "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/check_health?password=hunter22"
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        process.kill()
        process.wait()
    assert process.stderr is not None
    log = process.stderr.read()
    assert "serving on" in log
    assert "GET /check_health 200" in log
    assert "hunter22" not in log
    assert "supportbox stopped" in log
