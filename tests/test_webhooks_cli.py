"""The ``supportbox webhook`` commands.

One test runs the command as a real process; the others call the same
entry point in this process, which keeps them fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import time
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import select

from serverkit import init_data_dir
from supportbox.cli.main import main as cli_main
from supportbox.runtime import open_runtime
from supportbox.settings import Settings
from supportbox.storage.models import WebhookDelivery
from supportbox.webhooks import queue, recipients
from test_cli import SUPPORTBOX, assert_one_clear_line


@pytest.fixture
def store(data_dir: Path, database_url: str) -> list[str]:
    """Flags naming a fresh, initialised (not demo) database."""
    init_data_dir(data_dir, database_url, demo=False)
    return ["--data-dir", str(data_dir), "--database-url", database_url]


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command's entry point, called in this process."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env or {}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = cli_main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_the_webhook_command_runs_as_a_real_process(store: list[str]) -> None:
    result = subprocess.run(
        [*SUPPORTBOX, "webhook", "add", *store, "--name", "n", "--url", "ftp://h"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_clear_line(result, "must be an http:// or https:// URL")


def test_add_prints_a_generated_secret_once_and_list_never_shows_it(
    store: list[str],
) -> None:
    added = run(
        "webhook",
        "add",
        *store,
        "--name",
        "snow",
        "--url",
        "https://tickets.example.com/hook",
        "--events",
        "support_conference_end,support_conference_begin",
        "--send-custom-fields",
        "--retry-interval",
        "30",
    )
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == "created webhook snow (id 1)"
    assert lines[1].startswith("secret: ")
    secret = lines[1].removeprefix("secret: ")
    assert len(secret) >= 32

    listed = json.loads(run("webhook", "list", *store, "--json").stdout)
    assert listed == [
        {
            "id": 1,
            "name": "snow",
            "url": "https://tickets.example.com/hook",
            "events": "support_conference_begin,support_conference_end",
            "enabled": "yes",
            "custom_fields": "yes",
            "retry_interval": 30.0,
            "retry_duration": 86400.0,
            "pending": 0,
            "dead": 0,
        }
    ]
    assert secret not in run("webhook", "list", *store).stdout


def test_a_given_secret_is_kept_as_given_and_not_echoed(
    store: list[str], data_dir: Path, database_url: str
) -> None:
    added = run(
        "webhook",
        "add",
        *store,
        "--name",
        "slack",
        "--url",
        "http://127.0.0.1:9/hook",
        "--json",
        env={"SUPPORTBOX_WEBHOOK_SECRET": "s3cret-s3cret-s3cret"},
    )
    assert json.loads(added.stdout) == {"id": 1, "name": "slack"}
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=database_url))
    with runtime.db() as db:
        assert recipients.get(db, "slack").secret == "s3cret-s3cret-s3cret"
    runtime.engine.dispose()

    renewed = run(
        "webhook", "update", *store, "--webhook", "slack", "--new-secret", "--json"
    )
    assert len(json.loads(renewed.stdout)["secret"]) >= 32
    changed = run(
        "webhook",
        "update",
        *store,
        "--webhook",
        "1",
        "--disable",
        "--events",
        "all",
        "--send-custom-fields",
        "no",
    )
    assert changed.stdout == "updated webhook slack\n"
    listed = json.loads(run("webhook", "list", *store, "--json").stdout)
    assert (listed[0]["enabled"], listed[0]["events"]) == ("no", "all")


def test_bad_input_is_one_clear_line(store: list[str]) -> None:
    base = ["webhook", "add", *store, "--name", "x"]
    assert_one_clear_line(run(*base, "--url", "ftp://h/x"), "http:// or https://")
    assert_one_clear_line(run(*base, "--url", "not a url"), "url")
    assert_one_clear_line(
        run(*base, "--url", "http://h/x", "--events", "session_begin"),
        "unknown event 'session_begin'",
    )
    assert_one_clear_line(
        run(*base, "--url", "http://h/x", "--secret", "short"), "shorter than 16"
    )
    assert_one_clear_line(
        run(*base, "--url", "http://h/x", "--retry-interval", "0"),
        "retry interval must be a positive number",
    )
    assert_one_clear_line(
        run(*base, "--url", "http://h/x", "--retry-duration", "nan"),
        "retry duration must be a positive number",
    )
    assert run(*base, "--url", "http://h/x").returncode == 0
    assert_one_clear_line(run(*base, "--url", "http://h/y"), "named 'x' exists")
    assert_one_clear_line(
        run("webhook", "remove", *store, "--webhook", "nope"), "no webhook 'nope'"
    )
    assert_one_clear_line(
        run("webhook", "replay", *store, "--delivery", "99"), "no dead letter 99"
    )
    assert_one_clear_line(run("webhook", "replay", *store), "name the dead letters")


def test_dead_letters_are_listed_replayed_and_dropped_with_their_webhook(
    store: list[str], data_dir: Path, database_url: str
) -> None:
    assert run("webhook", "add", *store, "--name", "h", "--url", "http://h/").stdout
    runtime = open_runtime(Settings(data_dir=data_dir, database_url=database_url))
    now = time.time()
    with runtime.write_db() as db, db.begin():
        for n in range(3):
            queue.enqueue(
                db, 1, f"{n:032x}", "support_conference_end", "l" * 32, "", now
            )
        db.flush()
        for row in db.scalars(select(WebhookDelivery).limit(2)):
            row.status, row.attempts, row.finished_at = queue.DEAD, 4, now
            row.last_error = "HTTP 503"

    listed = run("webhook", "dead-letters", *store)
    assert listed.stdout.splitlines()[0].split("\t") == [
        "id",
        "webhook",
        "event",
        "event_id",
        "lsid",
        "attempts",
        "failed_at",
        "last_error",
    ]
    letters = json.loads(run("webhook", "dead-letters", *store, "--json").stdout)
    assert [(d["id"], d["webhook"], d["attempts"]) for d in letters] == [
        (1, "h", 4),
        (2, "h", 4),
    ]
    assert letters[0]["last_error"] == "HTTP 503"

    one = run("webhook", "replay", *store, "--delivery", "2")
    assert one.stdout == "queued 1 dead letter again\n"
    rest = run("webhook", "replay", *store, "--webhook", "h")
    assert rest.stdout == "queued 1 dead letter again\n"
    with runtime.db() as db:
        assert set(db.scalars(select(WebhookDelivery.status))) == {queue.PENDING}
        assert set(db.scalars(select(WebhookDelivery.attempts))) == {0}
    runtime.engine.dispose()

    listed = json.loads(run("webhook", "list", *store, "--json").stdout)
    assert (listed[0]["pending"], listed[0]["dead"]) == (3, 0)
    removed = run("webhook", "remove", *store, "--webhook", "h")
    assert removed.stdout == "removed webhook h (3 undelivered events dropped)\n"
