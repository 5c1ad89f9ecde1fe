"""Entry point of the ``supportbox`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from supportbox import __version__
from supportbox.cli import admin, backup, common, live, recordings, setup, webhooks
from supportbox.errors import SupportboxError

#: Modules with a ``register(subparsers)`` function, in help order.
FAMILIES = [setup, admin, live, recordings, webhooks, backup]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportbox",
        description="Self-hosted remote support server.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for family in FAMILIES:
        family.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except SupportboxError as exc:
        return common.fail(str(exc))
    except OperationalError as exc:
        return common.fail(f"cannot reach the database: {str(exc.orig).strip()}")
    except SQLAlchemyError as exc:
        return common.fail(f"database error: {exc.__class__.__name__}")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`supportbox user list | head`): nothing to say.
        sys.stderr.close()
        return 1
    except Exception as exc:
        # A bug, not a user's mistake: still one line, never a traceback.
        return common.fail(f"unexpected {exc.__class__.__name__}: {exc}")
    return code


if __name__ == "__main__":
    sys.exit(main())
