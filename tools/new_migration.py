"""Write a new Alembic migration from the difference between the models
and a database migrated to the current head.

    .venv/bin/python tools/new_migration.py "add webhook tables"
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from supportbox.storage import db


def main() -> None:
    message = sys.argv[1] if len(sys.argv) > 1 else "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'm.db'}")
        config = db._alembic_config(engine)
        has_head = any((db.MIGRATIONS / "versions").glob("[0-9]*.py"))
        if has_head:
            command.upgrade(config, "head")
        number = len(list((db.MIGRATIONS / "versions").glob("[0-9]*.py"))) + 1
        command.revision(
            config, message=message, autogenerate=True, rev_id=f"{number:04d}"
        )


if __name__ == "__main__":
    main()
