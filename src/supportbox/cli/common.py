"""What every subcommand shares: settings flags, the database, output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from supportbox import settings as settings_mod
from supportbox.settings import Settings
from supportbox.storage import db

Handler = Callable[[argparse.Namespace], int]

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_setting_flags(
    parser: argparse.ArgumentParser, names: Sequence[str] | None = None
) -> None:
    """Add the flags of ``names`` (all settings when ``None``)."""
    group = parser.add_argument_group("settings (also SUPPORTBOX_<NAME>)")
    for setting in settings_mod.SETTINGS:
        if names is not None and setting.name not in names:
            continue
        group.add_argument(
            setting.flag,
            dest=f"setting_{setting.name}",
            metavar=setting.name.upper(),
            help=f"{setting.help} (default: {setting.default or 'empty'})",
        )


STORAGE = ("data_dir", "database_url", "log_level")


def subcommand(
    family: Subparsers, name: str, help_: str, handler: Handler
) -> argparse.ArgumentParser:
    """A subcommand that works on the database: storage flags and a handler."""
    parser = family.add_parser(name, help=help_)
    add_setting_flags(parser, STORAGE)
    parser.set_defaults(handler=handler)
    return parser


def resolve(args: argparse.Namespace) -> Settings:
    flags = {
        name.removeprefix("setting_"): value
        for name, value in vars(args).items()
        if name.startswith("setting_")
    }
    return settings_mod.load(flags)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Session]:
    """A session on a current database, committed when the block succeeds."""
    settings = resolve(args)
    engine = db.make_engine(settings.db_url)
    try:
        db.check_current(engine)
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def emit_table(
    rows: list[dict[str, Any]], columns: Sequence[str], as_json: bool
) -> None:
    """Rows as a JSON array (``--json``) or tab-separated with a header."""
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print("\t".join(columns))
    for row in rows:
        print("\t".join(str(row[c]) for c in columns))


def flag(value: bool) -> str:
    return "yes" if value else "no"


def fail(message: str, code: int = 1) -> int:
    print(f"supportbox: error: {message}", file=sys.stderr)
    return code
