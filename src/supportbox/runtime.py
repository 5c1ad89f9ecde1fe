"""The state one supportbox process shares between its parts."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from supportbox.core.events import SessionObserver
from supportbox.settings import Settings
from supportbox.storage import db, install


@dataclass
class Runtime:
    """Settings, database and the live parts of a running server.

    Created once per process by :func:`open_runtime`; HTTP handlers reach
    it as ``request.app.state.runtime``. Feature packages attach their
    long-lived objects (the session hub, the broker, delivery workers)
    in ``services`` under their own name.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    appliance_id: str
    started_at: float = field(default_factory=time.time)
    node_id: str = field(default_factory=lambda: secrets.token_hex(8))
    services: dict[str, Any] = field(default_factory=dict)
    observers: list[SessionObserver] = field(default_factory=list)

    async def start(self) -> None:
        """Start every service that has an async ``start()``, in order."""
        for service in self.services.values():
            start = getattr(service, "start", None)
            if start is not None:
                await start()

    async def stop(self) -> None:
        """Stop the services in reverse order, then release the database."""
        for service in reversed(list(self.services.values())):
            stop = getattr(service, "stop", None)
            if stop is not None:
                await stop()
        self.engine.dispose()

    def db(self) -> Session:
        """A new database session; use it as a context manager."""
        return self.sessions()

    def read_db(self) -> Session:
        """A session for long read-only work, such as streaming a report.

        On SQLite it does not take the write lock; never write through it.
        """
        return self.sessions(bind=db.reader(self.engine))

    def write_db(self) -> Session:
        """A session for read-modify-write work: it locks before it reads.

        On SQLite its transactions begin IMMEDIATE; on PostgreSQL lock rows
        with ``SELECT ... FOR UPDATE``.
        """
        return self.sessions(bind=db.writer(self.engine))


def open_runtime(settings: Settings, *, check: bool = True) -> Runtime:
    """Connect to the database; with ``check``, refuse one that is not current."""
    engine = db.make_engine(settings.db_url)
    if check:
        db.check_current(engine)
    makers = db.make_sessionmaker(engine)
    with makers() as session, session.begin():
        appliance = install.appliance_id(session)
    return Runtime(settings, engine, makers, appliance)
