"""Fixtures shared by the whole suite.

Set SUPPORTBOX_TEST_DB=postgresql to run every test against the local
PostgreSQL (each test gets its own database); when PostgreSQL does not
answer, those runs are skipped with a message saying so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serverkit import (
    LiveServer,
    backend,
    drop_database,
    fresh_database_url,
    init_data_dir,
    postgres_answers,
    run_server,
)
from supportbox.settings import Settings

# The customer runs the user's $SHELL. The shells the tests start must not
# depend on this machine's start-up files: an interactive bash reads
# ~/.bashrc, and a profile that waits on a lock (pyenv's rehash waits a
# minute when a killed shell left its lock behind) stalls every shell test.
os.environ["SHELL"] = "/bin/sh"
os.environ.pop("ENV", None)


def pytest_report_header() -> str:
    return f"supportbox database backend: {backend()}"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    if backend() == "postgresql" and not postgres_answers():
        skip = pytest.mark.skip(
            reason="SKIPPED: SUPPORTBOX_TEST_DB=postgresql but PostgreSQL does not "
            "answer on 127.0.0.1:5432"
        )
        for item in items:
            item.add_marker(skip)


@pytest.fixture
def database_url(data_dir: Path) -> Iterator[str]:
    url = fresh_database_url(data_dir)
    yield url
    drop_database(url)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def demo_settings(data_dir: Path, database_url: str) -> tuple[Settings, dict[str, Any]]:
    """Settings for a freshly initialised demo installation."""
    credentials = init_data_dir(data_dir, database_url)
    settings = Settings(data_dir=data_dir, database_url=database_url)
    return settings, credentials


@pytest.fixture
def server(demo_settings: tuple[Settings, dict[str, Any]]) -> Iterator[LiveServer]:
    """A real server with the demo data, on a free port."""
    settings, credentials = demo_settings
    with run_server(settings, credentials) as live:
        yield live
