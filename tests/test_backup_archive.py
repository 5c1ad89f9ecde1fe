"""The archive format, its writer and restore, against the real database."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backupkit import dump, rewrite, seed_sessions, table_names
from serverkit import drop_database, fresh_database_url, init_data_dir
from supportbox.backup import crypto
from supportbox.backup.reader import open_archive
from supportbox.backup.restore import restore
from supportbox.backup.snapshot import open_snapshot
from supportbox.backup.writer import BackupOptions, archive_filename, write_archive
from supportbox.errors import ArchiveError, Conflict
from supportbox.settings import Settings
from supportbox.storage import db
from supportbox.storage.models import Base, SessionEvent, SupportSession

PASSWORD = "s3cret pw"


@dataclass
class Source:
    """One seeded installation and the archives taken of it."""

    settings: Settings
    archives: dict[str, Path]

    def copy(self, kind: str, folder: Path) -> Path:
        """A copy of one archive that a test may damage."""
        return Path(shutil.copy(self.archives[kind], folder / f"{kind}.nsb"))


def backup(engine: Engine, settings: Settings, path: Path, **options: Any) -> Path:
    with path.open("wb") as out:
        write_archive(engine, settings.data_dir, out, BackupOptions(**options))
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    """A demo installation with three finished sessions and recordings,
    backed up four ways; shared by the module, which only reads it."""
    folder = tmp_path_factory.mktemp("source")
    data_dir = folder / "data"
    data_dir.mkdir()
    url = fresh_database_url(data_dir)
    init_data_dir(data_dir, url)
    settings = Settings(data_dir=data_dir, database_url=url)
    engine = db.make_engine(settings.db_url)
    seed_sessions(engine, data_dir)
    archives = {
        "plain": backup(engine, settings, folder / "plain.nsb"),
        "recordings": backup(
            engine, settings, folder / "rec.nsb", include_recordings=True
        ),
        "encrypted": backup(
            engine,
            settings,
            folder / "enc.nsb",
            password=PASSWORD,
            include_recordings=True,
        ),
    }
    engine.dispose()
    yield Source(settings, archives)
    drop_database(url)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Settings]:
    """An empty place to restore into: no folder yet, an empty database."""
    folder = tmp_path / "restored"
    folder.mkdir()
    url = fresh_database_url(folder)
    folder.rmdir()
    yield Settings(data_dir=folder, database_url=url)
    drop_database(url)


def assert_untouched(target: Settings) -> None:
    assert not target.data_dir.exists()
    assert table_names(target.db_url) == []


def assert_same_rows(source: Settings, target: Settings) -> None:
    before, after = dump(source.db_url), dump(target.db_url)
    assert list(before) == list(after)
    for name in before:
        if name != "recording":
            assert before[name] == after[name], name
    assert len(before["support_session"]) == 3
    assert len(before["session_event"]) == 15


def assert_same_recordings(source: Settings, target: Settings) -> None:
    restored = db.make_engine(target.db_url)
    recording = Base.metadata.tables["recording"]
    with Session(restored) as session:
        paths = list(session.scalars(select(recording.c.path)))
    restored.dispose()
    assert len(paths) == 3
    for path in paths:
        full = Path(path) if Path(path).is_absolute() else target.data_dir / path
        relative = full.relative_to(target.data_dir.resolve())
        assert full.read_bytes() == (source.data_dir / relative).read_bytes()


def test_a_plain_backup_restores_row_for_row_with_its_recordings(
    source: Source, target: Settings
) -> None:
    result = restore(source.archives["recordings"], target)

    rows = sum(len(rows) for rows in dump(source.settings.db_url).values())
    assert result.rows == rows
    assert result.recordings == 3
    assert_same_rows(source.settings, target)
    assert_same_recordings(source.settings, target)
    restored = db.make_engine(target.db_url)
    db.check_current(restored)
    # New rows get fresh ids: PostgreSQL's sequences were moved on.
    with Session(restored) as session, session.begin():
        late = SupportSession(lsid="e" * 32, start_time=2e9)
        session.add(late)
        session.flush()
        session.add(
            SessionEvent(session_id=late.id, seq=1, timestamp=2e9, event_type="x")
        )
        late_id = late.id
    restored.dispose()
    assert late_id > max(
        row[0] for row in dump(source.settings.db_url)["support_session"]
    )


def test_recordings_stay_out_unless_asked_for(source: Source, target: Settings) -> None:
    with zipfile.ZipFile(source.archives["plain"]) as plain:
        names = plain.namelist()
        manifest = json.loads(plain.read("manifest.json"))
    assert not any(name.startswith("recordings/") for name in names)
    assert manifest["recordings"]["included"] is False

    restore(source.archives["plain"], target)
    assert_same_rows(source.settings, target)
    assert not (target.data_dir / "recordings").exists()


def test_the_manifest_lists_every_table_with_counts_and_checksums(
    source: Source,
) -> None:
    with zipfile.ZipFile(source.archives["recordings"]) as plain:
        manifest = json.loads(plain.read("manifest.json"))
        assert plain.namelist()[-1] == "manifest.json"
    counts = {table["name"]: table["rows"] for table in manifest["tables"]}

    assert manifest["format"] == "supportbox-backup"
    assert manifest["format_version"] == 1
    assert manifest["alembic_revision"] == db.head_revision()
    assert manifest["product_version"]
    assert [t.name for t in Base.metadata.sorted_tables] == list(counts)
    assert counts["support_session"] == 3
    assert counts["session_event"] == 15
    assert counts["survey_response"] == 6
    assert len(manifest["recordings"]["files"]) == 3
    assert all(len(m["sha256"]) == 64 for m in manifest["members"].values())


def test_the_archive_name_is_supportbox_and_the_utc_date() -> None:
    assert archive_filename(1_700_000_000) == "supportbox-2023-11-14.nsb"


def test_an_encrypted_backup_restores_with_its_password(
    source: Source, target: Settings
) -> None:
    data = source.archives["encrypted"].read_bytes()
    assert data.startswith(crypto.MAGIC)
    assert b"Customer 1" not in data and b"session_event" not in data

    restore(source.archives["encrypted"], target, PASSWORD)
    assert_same_rows(source.settings, target)
    assert_same_recordings(source.settings, target)


def test_encryption_round_trips_every_length_around_a_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crypto, "LOG2_N", 10)
    for length in (
        0,
        1,
        crypto.CHUNK_SIZE - 1,
        crypto.CHUNK_SIZE,
        2 * crypto.CHUNK_SIZE,
    ):
        plain = bytes(range(256)) * (length // 256) + b"x" * (length % 256)
        sealed = io.BytesIO()
        writer = crypto.EncryptingWriter(sealed, "pw")
        writer.write(plain)
        writer.close()
        sealed.seek(0)
        opened = io.BytesIO()
        crypto.decrypt(sealed, opened, "pw")
        assert opened.getvalue() == plain


def test_a_wrong_password_is_named_and_nothing_is_written(
    source: Source, target: Settings
) -> None:
    with pytest.raises(ArchiveError, match="wrong password"):
        restore(source.archives["encrypted"], target, "wrong one")
    with pytest.raises(ArchiveError, match="encrypted; give its password"):
        restore(source.archives["encrypted"], target)
    assert_untouched(target)


@pytest.mark.parametrize("kind", ["recordings", "encrypted"])
def test_a_corrupt_byte_is_refused_and_nothing_is_written(
    source: Source, target: Settings, tmp_path: Path, kind: str
) -> None:
    archive = source.copy(kind, tmp_path)
    data = bytearray(archive.read_bytes())
    if kind == "encrypted":
        offset = len(data) // 2
    else:
        with zipfile.ZipFile(archive) as plain:
            info = plain.getinfo("tables/session_event.jsonl")
        offset = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[offset] ^= 0x01
    archive.write_bytes(bytes(data))

    with pytest.raises(ArchiveError, match="corrupt"):
        restore(archive, target, PASSWORD)
    assert_untouched(target)


@pytest.mark.parametrize("kind", ["recordings", "encrypted"])
@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_truncated_archive_is_refused_and_nothing_is_written(
    source: Source, target: Settings, tmp_path: Path, kind: str, keep: float
) -> None:
    archive = source.copy(kind, tmp_path)
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(ArchiveError, match="truncated"):
        restore(archive, target, PASSWORD)
    assert_untouched(target)


def test_an_encrypted_archive_cut_at_a_chunk_boundary_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(crypto, "LOG2_N", 10)
    sealed = io.BytesIO()
    writer = crypto.EncryptingWriter(sealed, "pw")
    writer.write(b"z" * (3 * crypto.CHUNK_SIZE))
    writer.close()
    cut = crypto.HEADER_SIZE + 2 * (crypto.CHUNK_SIZE + crypto.TAG_SIZE)
    with pytest.raises(ArchiveError, match="truncated"):
        crypto.decrypt(io.BytesIO(sealed.getvalue()[:cut]), io.BytesIO(), "pw")


def test_every_damaged_byte_is_refused_or_harmless(
    source: Source, tmp_path: Path
) -> None:
    original = source.archives["recordings"]
    data = original.read_bytes()
    with open_archive(original) as good:
        contents = {name: good.zip.read(name) for name in good.zip.namelist()}
    damaged = tmp_path / "d.nsb"
    for offset in range(0, len(data), max(1, len(data) // 150)):
        changed = bytearray(data)
        changed[offset] ^= 0x40
        damaged.write_bytes(bytes(changed))
        try:
            with open_archive(damaged) as opened:
                # Accepted: then the bit only hit ZIP bookkeeping.
                for name, content in contents.items():
                    assert opened.zip.read(name) == content, (offset, name)
        except ArchiveError:
            pass


def test_a_newer_format_version_is_refused(
    source: Source, target: Settings, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.nsb"
    rewrite(source.archives["plain"], newer, lambda m: m.update(format_version=2))
    with pytest.raises(ArchiveError, match="format version 2, newer"):
        restore(newer, target)
    assert_untouched(target)


def test_a_newer_database_revision_is_refused(
    source: Source, target: Settings, tmp_path: Path
) -> None:
    newer = tmp_path / "newer.nsb"
    rewrite(
        source.archives["plain"], newer, lambda m: m.update(alembic_revision="9999")
    )
    says = r"newer supportbox \(database revision 9999\)"
    with pytest.raises(ArchiveError, match=says):
        restore(newer, target)
    assert_untouched(target)


def test_rows_that_do_not_fit_leave_the_target_as_it_was(
    source: Source, target: Settings, tmp_path: Path
) -> None:
    twice = tmp_path / "twice.nsb"
    # The checksums agree, but a table with rows repeats a primary key.
    last = "session_event"
    member = f"tables/{last}.jsonl"
    edits = {member: lambda rows: rows + rows}
    rewrite(source.archives["recordings"], twice, member_edits=edits)
    with pytest.raises(ArchiveError, match=f"rows of table {last} do not fit"):
        restore(twice, target)
    assert_untouched(target)


def test_a_recording_path_that_climbs_out_is_refused(
    source: Source, target: Settings, tmp_path: Path
) -> None:
    evil = tmp_path / "evil.nsb"

    def climb(manifest: dict[str, Any]) -> None:
        old = manifest["recordings"]["files"][0]["member"]
        new = "recordings/../../escape.cast"
        manifest["recordings"]["files"][0]["member"] = new
        manifest["members"][new] = manifest["members"].pop(old)

    rewrite(source.archives["recordings"], evil, climb)
    with pytest.raises(ArchiveError):
        restore(evil, target)
    assert_untouched(target)
    assert not (tmp_path / "escape.cast").exists()


def test_a_target_that_is_not_empty_is_refused(
    source: Source, target: Settings, tmp_path: Path
) -> None:
    target.data_dir.mkdir()
    (target.data_dir / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="is not empty"):
        restore(source.archives["plain"], target)
    assert (target.data_dir / "keep.txt").read_text() == "mine"

    elsewhere = source.settings.replace(data_dir=tmp_path / "other")
    with pytest.raises(Conflict, match="already has"):
        restore(source.archives["plain"], elsewhere)
    assert len(dump(source.settings.db_url)["support_session"]) == 3
    assert not elsewhere.data_dir.exists()


def test_the_snapshot_ignores_writes_committed_after_it_began(
    demo_settings: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = demo_settings
    engine = db.make_engine(settings.db_url)
    seed_sessions(engine, settings.data_dir)
    sessions = Base.metadata.tables["support_session"]
    events = Base.metadata.tables["session_event"]
    with open_snapshot(engine) as snapshot:
        seen_sessions = [row for batch in snapshot.rows(sessions) for row in batch]

        with Session(engine) as other, other.begin():
            late = SupportSession(lsid="f" * 32, start_time=2e9)
            other.add(late)
            other.flush()
            other.add(
                SessionEvent(
                    session_id=late.id, seq=1, timestamp=2e9, event_type="Session Start"
                )
            )

        seen_events = [row for batch in snapshot.rows(events) for row in batch]

    engine.dispose()
    assert len(seen_sessions) == 3
    assert len(seen_events) == 15
    assert {e["session_id"] for e in seen_events} <= {s["id"] for s in seen_sessions}
    assert len(dump(settings.db_url)["session_event"]) == 16


def test_an_archive_restores_into_sqlite_whatever_database_it_came_from(
    source: Source, tmp_path: Path
) -> None:
    # Under SUPPORTBOX_TEST_DB=postgresql this moves PostgreSQL to SQLite.
    target = Settings(data_dir=tmp_path / "lite")
    restore(source.archives["recordings"], target)
    assert target.db_url.startswith("sqlite:")
    assert_same_rows(source.settings, target)
    assert_same_recordings(source.settings, target)
