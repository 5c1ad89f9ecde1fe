"""Restoring a verified archive into an empty data directory and database.

The order is: refuse a target that is not empty, verify the whole archive
(:mod:`supportbox.backup.reader`), and only then write: migrate to the
archive's revision, insert the rows table by table in one transaction,
set PostgreSQL's sequences past the restored ids, migrate to head and
copy the recordings. Should any write fail, what was written is removed,
so the target is left as empty as it was found.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import JSON, Connection, Engine, MetaData, Table, inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from supportbox.backup import format as fmt
from supportbox.backup.reader import Archive, open_archive
from supportbox.errors import ArchiveError, ConfigError, Conflict
from supportbox.logs import log
from supportbox.settings import Settings
from supportbox.storage import db

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Restored:
    """What a restore wrote."""

    tables: int
    rows: int
    recordings: int
    revision: str


class _Target:
    """The data directory and database a restore writes into."""

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.url = settings.db_url
        url = make_url(self.url)
        is_file = url.get_backend_name() == "sqlite" and url.database
        self.sqlite_file = Path(url.database) if is_file and url.database else None
        self.created_dir = False
        self.created_file = False

    def check_empty(self) -> None:
        """Raise :class:`Conflict` unless both the folder and the database
        are empty (or do not exist yet)."""
        if self.data_dir.exists():
            if not self.data_dir.is_dir():
                raise ConfigError(f"{str(self.data_dir)!r} is not a directory")
            if any(self.data_dir.iterdir()):
                raise Conflict(
                    f"data directory {str(self.data_dir)!r} is not empty; "
                    "restore needs an empty one"
                )
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            return
        engine = db.make_engine(self.url)
        try:
            tables = inspect(engine).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise Conflict(
                f"the database already has {len(tables)} tables; restore "
                "needs an empty database"
            )

    def prepare(self) -> None:
        self.created_dir = not self.data_dir.exists()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.sqlite_file is not None:
            self.created_file = not self.sqlite_file.exists()

    def undo(self, engine: Engine) -> None:
        """Remove whatever the restore wrote; the target was empty."""
        try:
            found = MetaData()
            found.reflect(engine)
            found.drop_all(engine)
        except SQLAlchemyError:
            log.exception("restore: could not drop the tables it created")
        engine.dispose()
        if self.created_file and self.sqlite_file is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.sqlite_file}{suffix}").unlink(missing_ok=True)
        if self.created_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        elif self.data_dir.is_dir():
            for child in self.data_dir.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)


def _for_insert(table: Table) -> Table:
    """``table`` with JSON columns that keep ``None`` as SQL NULL."""
    for column in table.c:
        if isinstance(column.type, JSON):
            column.type = type(column.type)(none_as_null=True)
    return table


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Move each PostgreSQL sequence past the largest restored id."""
    preparer = conn.dialect.identifier_preparer
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sqltypes.Integer):
                continue
            name = preparer.format_table(table)
            statement = text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f"(SELECT COALESCE(MAX({preparer.quote(column.name)}), 0) + 1 "
                f"FROM {name}), false)"
            )
            conn.execute(statement, {"table": name, "column": column.name})


def _moved_paths(archive: Archive, data_dir: Path) -> dict[int, str]:
    """New paths of the recordings whose files the archive holds: where
    :func:`_copy_recordings` puts them, so an absolute path of the old data
    directory or a ``../`` that escaped it does not survive the restore."""
    root = data_dir.resolve()
    return {
        entry["id"]: str(
            root.joinpath(
                *fmt.safe_relative(
                    entry["member"].removeprefix(fmt.RECORDINGS_DIR)
                ).parts
            )
        )
        for entry in archive.recordings
    }


def _insert_rows(conn: Connection, archive: Archive, data_dir: Path) -> int:
    found = MetaData()
    found.reflect(conn)
    moved = _moved_paths(archive, data_dir)
    restored, total = [], 0
    for entry in archive.tables:
        name = entry["name"]
        if name not in found.tables:
            raise ArchiveError(f"the archive has a table {name} the database lacks")
        table = _for_insert(found.tables[name])
        decode = fmt.row_decoder(table, entry["columns"])
        for batch in archive.rows(entry):
            values = [decode(row) for row in batch]
            if name == "recording" and moved:
                for row in values:
                    row["path"] = moved.get(row["id"], row["path"])
            try:
                conn.execute(table.insert(), values)
            except SQLAlchemyError as exc:
                raise ArchiveError(
                    f"the rows of table {name} do not fit the database "
                    f"({exc.__class__.__name__})"
                ) from None
            total += len(values)
        restored.append(table)
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn, restored)
    return total


def _copy_recordings(archive: Archive, data_dir: Path) -> int:
    members = {entry["member"] for entry in archive.recordings}
    for member in sorted(members):
        relative = fmt.safe_relative(member.removeprefix(fmt.RECORDINGS_DIR))
        target = data_dir.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, COPY_CHUNK)
    return len(members)


def _write(archive: Archive, target: _Target, engine: Engine) -> Restored:
    revision: str = archive.manifest["alembic_revision"]

    # The schema the archive was taken from, then its rows.
    db.upgrade(engine, revision)
    with engine.begin() as conn:
        rows = _insert_rows(conn, archive, target.data_dir)

    # Later migrations carry the rows forward to this code's schema.
    db.upgrade(engine)
    recordings = _copy_recordings(archive, target.data_dir)
    return Restored(len(archive.tables), rows, recordings, revision)


def restore(path: Path, settings: Settings, password: str | None = None) -> Restored:
    """Restore the archive at ``path`` into the empty target of ``settings``.

    Raises :class:`Conflict` for a target that is not empty and
    :class:`ArchiveError` for an archive that cannot be restored; in both
    cases nothing in the target has changed.
    """
    target = _Target(settings)
    target.check_empty()
    with open_archive(path, password) as archive:
        target.prepare()
        engine = db.make_engine(target.url)
        try:
            result = _write(archive, target, engine)
        except BaseException:
            target.undo(engine)
            raise
        engine.dispose()
    log.info(
        "restored %d rows in %d tables and %d recordings",
        result.rows,
        result.tables,
        result.recordings,
    )
    return result
