"""Preparing a data directory and its database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.errors import ConfigError
from supportbox.storage import db
from supportbox.storage.models import Meta

DEMO_FILE = "demo-credentials.json"


def prepare_data_dir(path: Path) -> Path:
    """Create ``path`` if needed and prove it is writable."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"data directory {str(path)!r} is not writable: {exc.strerror}"
        ) from None
    return path


def meta_value(session: Session, key: str) -> str | None:
    return session.scalar(select(Meta.value).where(Meta.key == key))


def appliance_id(session: Session) -> str:
    """This installation's GUID, created on first use."""
    value = meta_value(session, "appliance_id")
    if value is None:
        value = ids.new_appliance_id()
        session.add(Meta(key="appliance_id", value=value))
        session.flush()
    return value


def initialise(engine: Engine) -> None:
    """Migrate the database to head and make sure the appliance id exists."""
    db.upgrade(engine)
    with Session(engine) as session, session.begin():
        appliance_id(session)


def is_empty(engine: Engine) -> bool:
    from supportbox.storage.models import User

    with Session(engine) as session:
        return session.scalar(select(User.id).limit(1)) is None


def save_demo_credentials(data_dir: Path, credentials: dict[str, Any]) -> Path:
    target = data_dir / DEMO_FILE
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, indent=2)
    return target
