"""``supportbox recordings``: checks on the stored session recordings."""

from __future__ import annotations

import argparse

from supportbox.cli import common
from supportbox.recording import verify


def register(commands: common.Subparsers) -> None:
    family = commands.add_parser("recordings", help="check session recordings")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser(
        "verify",
        help="compare every recording file with the hash stored when it closed",
        description="Names every recording whose file changed or vanished "
        "since it was closed, one line each, and exits 1 if there is any.",
    )
    common.add_setting_flags(check, common.STORAGE)
    check.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    settings = common.resolve(args)
    checked = still_open = 0
    problems = []
    with common.database(args) as db:
        for finding in verify.check_all(db, settings):
            if finding.problem is not None:
                problems.append(finding)
                print(finding.line())
            elif finding.open:
                still_open += 1
            else:
                checked += 1
    if problems:
        total = checked + len(problems)
        return common.fail(f"{len(problems)} of {total} recordings failed the check")
    suffix = f"; {still_open} still open, not checked" if still_open else ""
    print(f"{checked} recordings verified{suffix}")
    return 0
