"""The database engine and the migration checks around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from supportbox.errors import ConfigError, DatabaseAhead, DatabaseBehind, StorageError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets report readers run beside the live session writers. The
    # driver's own transaction handling is turned off so that _sqlite_begin
    # decides how each transaction begins.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A transaction that reads before it writes must hold the write lock
    # from the start: in WAL mode a deferred one fails at once (SQLITE_BUSY)
    # when another connection committed after its first read. So every
    # transaction begins IMMEDIATE unless it was opened through reader().
    immediate = conn.get_execution_options().get("sqlite_immediate", True)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The engine as used by read-modify-write transactions (the default)."""
    return engine.execution_options(sqlite_immediate=True)


def reader(engine: Engine) -> Engine:
    """The engine for long read-only work (reports, backups).

    On SQLite its transactions take no write lock, so a long report does
    not hold up live sessions; it must not write.
    """
    return engine.execution_options(sqlite_immediate=False)


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; ``postgresql://`` uses psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database url is not valid: {url!r}") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise StorageError(f"cannot open the database: {exc.orig}") from None


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; refuse a database newer than this code."""
    check_not_ahead(engine)
    command.upgrade(_alembic_config(engine), "head")


def check_not_ahead(engine: Engine) -> None:
    current = current_revision(engine)
    script = ScriptDirectory(str(MIGRATIONS))
    known = {revision.revision for revision in script.walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseAhead(
            f"the database is at revision {current}, written by a newer "
            "supportbox; upgrade supportbox"
        )


def check_current(engine: Engine) -> None:
    """Raise unless the database is exactly at the head revision."""
    check_not_ahead(engine)
    current = current_revision(engine)
    if current is None:
        raise DatabaseBehind(
            "the database is empty; run 'supportbox init' to prepare it"
        )
    if current != head_revision():
        raise DatabaseBehind(
            f"the database is at revision {current} but this supportbox needs "
            f"{head_revision()}; run 'supportbox init' to migrate it"
        )
