"""``supportbox init`` and ``supportbox serve``."""

from __future__ import annotations

import argparse

from sqlalchemy.orm import Session

from supportbox import logs, tuning
from supportbox.cli import common
from supportbox.directory import demo
from supportbox.errors import ConfigError
from supportbox.storage import db, install


def register(commands: common.Subparsers) -> None:
    init = commands.add_parser(
        "init",
        help="prepare the data directory and migrate the database",
        description="Create the data directory, apply database migrations and, "
        "with --demo, load demo data into an empty database.",
    )
    init.add_argument("--demo", action="store_true", help="load demo data when empty")
    common.add_setting_flags(init)
    init.set_defaults(handler=run_init)

    serve = commands.add_parser("serve", help="run the server")
    common.add_setting_flags(serve)
    serve.set_defaults(handler=run_serve)


def run_init(args: argparse.Namespace) -> int:
    settings = common.resolve(args)
    if not settings.database_url:
        install.prepare_data_dir(settings.data_dir)
    engine = db.make_engine(settings.db_url)
    try:
        install.initialise(engine)
        print(f"database ready at revision {db.head_revision()}")
        if args.demo and install.is_empty(engine):
            with Session(engine) as session, session.begin():
                credentials = demo.load(session)
            install.prepare_data_dir(settings.data_dir)
            path = install.save_demo_credentials(settings.data_dir, credentials)
            print(f"demo data loaded; logins and API credentials in {path}")
        elif args.demo:
            print("database already has users; demo data not loaded")
    finally:
        engine.dispose()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = common.resolve(args)
    if not settings.database_url and not settings.data_dir.is_dir():
        raise ConfigError(
            f"data directory {str(settings.data_dir)!r} does not exist; "
            "run 'supportbox init' first"
        )
    logs.configure(settings.log_level)
    tuning.tune_allocator()
    from supportbox.server import serve

    serve(settings)
    return 0
