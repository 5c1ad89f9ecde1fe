"""Live clients: ``supportbox customer``, ``rep`` and ``present``."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

from supportbox import tuning
from supportbox.cli import common
from supportbox.errors import InvalidInput

if TYPE_CHECKING:
    from supportbox.clients.customer import Consent


def register(commands: common.Subparsers) -> None:
    joiner = commands.add_parser(
        "customer",
        help="join a support session as the customer",
        description="Join a support session from a launcher (--server, --lsid, "
        "--token), a key URL, or a session key (--server, --key).",
    )
    joiner.add_argument("url", nargs="?", help="a key URL http(s)://HOST/?ak=...")
    joiner.add_argument(
        "--server",
        help="base URL of the server, http(s)://HOST; several, comma-separated, "
        "to fail over between nodes",
    )
    joiner.add_argument("--lsid", help="the session id, from the launcher")
    joiner.add_argument("--token", help="the single-use join token, from the launcher")
    joiner.add_argument("--key", help="a 7-digit session key a representative gave")
    joiner.add_argument(
        "--allow",
        metavar="shell,files,screen,control",
        default="",
        help="allow command shells, file transfers, seeing the screen and "
        "controlling it (each on its own) without asking; otherwise you are "
        "asked each time (refused in --json mode)",
    )
    joiner.add_argument(
        "--files-dir",
        metavar="DIR",
        help="the only folder files are sent to and fetched from "
        "(default ~/Downloads/supportbox, created if missing)",
    )
    _add_common(joiner)
    joiner.set_defaults(handler=run_customer)

    desk = commands.add_parser(
        "rep",
        help="provide support from a terminal",
        description="Log in as a representative; the password comes from "
        "SUPPORTBOX_PASSWORD or a prompt.",
    )
    desk.add_argument(
        "--server",
        required=True,
        help="base URL of the server; several, comma-separated, to fail over "
        "between nodes",
    )
    desk.add_argument("--username", required=True)
    _add_common(desk)
    desk.set_defaults(handler=run_rep)

    stage = commands.add_parser(
        "present",
        help="show this computer's screen to attendees of a presentation",
        description="Log in as a representative and start a presentation; "
        "attendees enter the printed key on the public site. The password "
        "comes from SUPPORTBOX_PASSWORD or a prompt. Ctrl-C ends it.",
    )
    stage.add_argument("--server", required=True, help="base URL of the server")
    stage.add_argument("--username", required=True)
    stage.add_argument(
        "--monitor", type=int, default=1, help="which screen to show (1 = the first)"
    )
    stage.add_argument(
        "--seconds", type=float, help="end the presentation after this long"
    )
    stage.set_defaults(handler=run_present)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="events as JSON lines on stdout, commands as JSON lines on stdin",
    )
    parser.add_argument(
        "--answer",
        action="append",
        metavar="NAME=VALUE",
        help="answer the exit survey without asking (repeatable)",
    )


def _answers(args: argparse.Namespace) -> dict[str, str] | None:
    if args.answer is None:
        return None
    answers = {}
    for pair in args.answer:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"--answer {pair!r} is not NAME=VALUE")
        answers[name] = value
    return answers


def run_customer(args: argparse.Namespace) -> int:
    # Imported here so that other commands start without the client stack.
    from supportbox.clients import customer

    tuning.tune_allocator()
    ticket = None
    if args.lsid or args.token:
        if not (args.server and args.lsid and args.token):
            raise InvalidInput("--lsid and --token need --server too")
        ticket = customer.Ticket(args.server, args.lsid, args.token)
    elif args.key and not args.server:
        raise InvalidInput("--key needs --server")
    elif not (args.url or args.key):
        raise InvalidInput("give --server with --lsid and --token, --key, or a URL")
    return customer.main(
        ticket,
        args.url,
        args.server,
        args.key,
        as_json=args.json,
        answers=_answers(args),
        consent=_consent(args),
    )


def _consent(args: argparse.Namespace) -> Consent:
    from supportbox.clients.customer import Consent, default_files_dir

    allow = frozenset(a.strip() for a in args.allow.split(",") if a.strip())
    unknown = allow - {"shell", "files", "screen", "control"}
    if unknown:
        raise InvalidInput(
            f"--allow takes shell, files, screen and control, not {', '.join(unknown)}"
        )
    if args.files_dir is None:
        folder = default_files_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    else:
        folder = Path(args.files_dir).expanduser()
        if not folder.is_dir():
            raise InvalidInput(f"--files-dir {args.files_dir} is not a folder")
    return Consent(allow, folder)


def run_rep(args: argparse.Namespace) -> int:
    from supportbox.clients import rep

    tuning.tune_allocator()
    password = os.environ.get("SUPPORTBOX_PASSWORD") or getpass.getpass("password: ")
    return rep.main(
        args.server,
        args.username,
        password,
        as_json=args.json,
        answers=_answers(args),
    )


def run_present(args: argparse.Namespace) -> int:
    from supportbox.clients import presenter

    password = os.environ.get("SUPPORTBOX_PASSWORD") or getpass.getpass("password: ")
    return presenter.main(
        args.server, args.username, password, args.monitor, args.seconds
    )
