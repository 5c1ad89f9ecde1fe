"""One consistent read of every table while sessions keep writing.

PostgreSQL gives a REPEATABLE READ, read-only transaction; SQLite a
single deferred read transaction, which in WAL mode sees the database as
it was at its first read while writers carry on beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Executable, Result, Table, select, text

from supportbox.backup import format as fmt
from supportbox.storage import db

BATCH = 500


class Snapshot:
    """Reads of one transaction; get one from :func:`open_snapshot`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    @property
    def dialect(self) -> str:
        return self._conn.dialect.name

    def alembic_revision(self) -> str | None:
        query = text("SELECT version_num FROM alembic_version")
        revision: str | None = self._conn.scalar(query)
        return revision

    def execute(self, query: Executable) -> Result[Any]:
        return self._conn.execute(query)

    def rows(self, table: Table) -> Iterator[list[dict[str, Any]]]:
        """The rows of ``table`` in primary-key order, encoded, in batches."""
        columns = list(table.c)
        json_flags = [fmt.is_json(column) for column in columns]
        # SQL NULL and JSON null read back alike; ask the database which.
        nulls = [
            c.is_(None).label(f"{c.name}__null") for c in columns if fmt.is_json(c)
        ]
        query = select(*columns, *nulls).order_by(
            *(table.primary_key.columns or columns)
        )
        result = self._conn.execution_options(
            stream_results=True, yield_per=BATCH
        ).execute(query)
        for partition in result.partitions():
            yield [self._encode(row, columns, json_flags) for row in partition]

    @staticmethod
    def _encode(row: Any, columns: list[Any], json_flags: list[bool]) -> dict[str, Any]:
        encoded: dict[str, Any] = {}
        extra = len(columns)
        for index, column in enumerate(columns):
            value = row[index]
            if json_flags[index]:
                is_null = row[extra]
                extra += 1
                encoded[column.name] = None if is_null else [value]
            else:
                encoded[column.name] = fmt.encode_cell(value, json_column=False)
        return encoded


@contextmanager
def open_snapshot(engine: Engine) -> Iterator[Snapshot]:
    """A read transaction that sees one moment of the whole database."""
    with db.reader(engine).connect() as conn:
        # On SQLite a reader's transaction begins deferred: in WAL mode the
        # first read below fixes what the whole transaction sees, and it
        # never blocks the writers.
        if conn.dialect.name != "sqlite":
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        try:
            snapshot = Snapshot(conn)
            # The first read fixes the moment the snapshot shows.
            snapshot.alembic_revision()
            yield snapshot
        finally:
            conn.rollback()
