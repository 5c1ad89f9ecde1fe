"""``supportbox backup`` and ``supportbox restore``, run as real processes."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backupkit import dump, rewrite, seed_sessions, table_names
from serverkit import drop_database, fresh_database_url, init_data_dir
from supportbox.cli.main import main as cli_main
from supportbox.settings import Settings
from supportbox.storage import db
from test_cli import assert_one_clear_line, run

PASSWORD = "cli archive pass"

# Each test starts the command two or three times; on a busy machine a
# start alone can take seconds.
pytestmark = pytest.mark.timeout(180)


@dataclass
class Made:
    settings: Settings
    plain: Path
    encrypted: Path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """A seeded installation and two archives the command wrote of it."""
    folder = tmp_path_factory.mktemp("cli")
    data_dir = folder / "data"
    data_dir.mkdir()
    url = fresh_database_url(data_dir)
    init_data_dir(data_dir, url)
    engine = db.make_engine(url)
    seed_sessions(engine, data_dir)
    engine.dispose()
    flags = ["--data-dir", str(data_dir), "--database-url", url]

    # In this process, to keep the setup quick; the test below runs the
    # backup command as a real process.
    plain, encrypted = folder / "plain.nsb", folder / "enc.nsb"
    assert (
        cli_main(["backup", *flags, "--output", str(plain), "--include-recordings"])
        == 0
    )
    assert (
        cli_main(["backup", *flags, "--output", str(encrypted), "--password", PASSWORD])
        == 0
    )

    yield Made(Settings(data_dir=data_dir, database_url=url), plain, encrypted)
    drop_database(url)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    folder = tmp_path / "restored"
    folder.mkdir()
    url = fresh_database_url(folder)
    folder.rmdir()
    yield Settings(data_dir=folder, database_url=url)
    drop_database(url)


def flags(settings: Settings) -> list[str]:
    return ["--data-dir", str(settings.data_dir), "--database-url", settings.db_url]


def test_backup_writes_the_archive_it_names(made: Made, tmp_path: Path) -> None:
    output = tmp_path / "out.nsb"
    result = run(
        "backup",
        *flags(made.settings),
        "--output",
        str(output),
        "--include-recordings",
        env={"SUPPORTBOX_BACKUP_PASSWORD": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {output} (")
    assert "3 recordings" in result.stdout
    assert zipfile.is_zipfile(output)
    assert not output.with_name("out.nsb.part").exists()


def test_restore_brings_back_every_row_and_the_recordings(
    made: Made, target: Settings
) -> None:
    result = run("restore", str(made.plain), *flags(target))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("restored ")
    assert "and 3 recordings into" in result.stdout
    before, after = dump(made.settings.db_url), dump(target.db_url)
    assert before["session_event"] == after["session_event"]
    assert before["user"] == after["user"]
    listed = run("user", "list", *flags(target), "--json")
    assert "alice" in [user["username"] for user in json.loads(listed.stdout)]
    assert len(list((target.data_dir / "recordings").rglob("*.cast"))) == 3


def test_restore_takes_the_password_from_the_environment(
    made: Made, target: Settings
) -> None:
    result = run(
        "restore",
        str(made.encrypted),
        *flags(target),
        env={"SUPPORTBOX_BACKUP_PASSWORD": PASSWORD},
    )
    assert result.returncode == 0, result.stderr
    assert (
        dump(made.settings.db_url)["participant"] == dump(target.db_url)["participant"]
    )


def _flip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as plain:
        info = plain.getinfo("tables/participant.jsonl")
    offset = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    return data[:offset] + bytes([data[offset] ^ 0x10]) + data[offset + 1 :]


Damage = Callable[[Made, Path], tuple[Path, list[str]]]


def _corrupt(made: Made, folder: Path) -> tuple[Path, list[str]]:
    path = folder / "corrupt.nsb"
    path.write_bytes(_flip(made.plain.read_bytes()))
    return path, []


def _truncated(made: Made, folder: Path) -> tuple[Path, list[str]]:
    path = folder / "cut.nsb"
    data = made.encrypted.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    return path, ["--password", PASSWORD]


def _wrong_password(made: Made, folder: Path) -> tuple[Path, list[str]]:
    return made.encrypted, ["--password", "not the password"]


def _no_password(made: Made, folder: Path) -> tuple[Path, list[str]]:
    return made.encrypted, []


def _newer_format(made: Made, folder: Path) -> tuple[Path, list[str]]:
    path = folder / "newer.nsb"
    rewrite(made.plain, path, lambda m: m.update(format_version=7))
    return path, []


def _not_an_archive(made: Made, folder: Path) -> tuple[Path, list[str]]:
    path = folder / "page.nsb"
    path.write_text("<error>Invalid credentials</error>")
    return path, []


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_corrupt, "the archive is corrupt"),
        (_truncated, "corrupt or truncated"),
        (_wrong_password, "wrong password"),
        (_no_password, "encrypted; give --password"),
        (_newer_format, "format version 7, newer"),
        (_not_an_archive, "is not a supportbox backup"),
    ],
    ids=["corrupt", "truncated", "wrong-password", "no-password", "newer", "junk"],
)
def test_a_bad_archive_is_one_clear_line_and_the_target_stays_empty(
    made: Made, target: Settings, tmp_path: Path, damage: Damage, says: str
) -> None:
    archive, extra = damage(made, tmp_path)
    result = run("restore", str(archive), *flags(target), *extra)
    assert_one_clear_line(result, says)
    assert not target.data_dir.exists()
    assert table_names(target.db_url) == []


def test_a_target_that_is_not_empty_is_one_clear_line(
    made: Made, target: Settings
) -> None:
    target.data_dir.mkdir()
    (target.data_dir / "notes.txt").write_text("keep me")
    result = run("restore", str(made.plain), *flags(target))
    assert_one_clear_line(result, "is not empty; restore needs an empty one")
    assert [p.name for p in target.data_dir.iterdir()] == ["notes.txt"]

    result = run(
        "restore",
        str(made.plain),
        "--data-dir",
        str(target.data_dir.parent / "x"),
        "--database-url",
        made.settings.db_url,
    )
    assert_one_clear_line(result, "already has")
