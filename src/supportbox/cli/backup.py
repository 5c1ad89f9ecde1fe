"""``supportbox backup`` and ``supportbox restore`` (docs/backup.md)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from supportbox.backup import crypto
from supportbox.backup.restore import restore
from supportbox.backup.writer import BackupOptions, archive_filename, write_archive
from supportbox.cli import common
from supportbox.errors import ArchiveError
from supportbox.storage import db

PASSWORD_ENV = "SUPPORTBOX_BACKUP_PASSWORD"


def register(commands: common.Subparsers) -> None:
    backup = commands.add_parser(
        "backup",
        help="write a backup archive of the installation to a file",
        description="Write the configuration and session data (and, on "
        "request, the recordings) to one archive, as /api/backup does.",
    )
    backup.add_argument(
        "--output", metavar="FILE", help="where to write (default: supportbox-DATE.nsb)"
    )
    backup.add_argument(
        "--password", help=f"encrypt with this password (or set {PASSWORD_ENV})"
    )
    backup.add_argument(
        "--include-recordings", action="store_true", help="add the recording files"
    )
    common.add_setting_flags(backup, common.STORAGE)
    backup.set_defaults(handler=run_backup)

    restore_cmd = commands.add_parser(
        "restore",
        help="restore a backup archive into an empty installation",
        description="Verify a backup archive completely, then restore it into "
        "an empty data directory and an empty database.",
    )
    restore_cmd.add_argument("file", metavar="FILE", help="the archive (.nsb)")
    restore_cmd.add_argument(
        "--password", help=f"the archive's password (or set {PASSWORD_ENV})"
    )
    common.add_setting_flags(restore_cmd, common.STORAGE)
    restore_cmd.set_defaults(handler=run_restore)


def _password(args: argparse.Namespace) -> str | None:
    given: str | None = args.password or os.environ.get(PASSWORD_ENV) or None
    return given


def run_backup(args: argparse.Namespace) -> int:
    settings = common.resolve(args)
    output = Path(args.output or archive_filename())
    partial = output.with_name(output.name + ".part")
    options = BackupOptions(_password(args), args.include_recordings)
    engine = db.make_engine(settings.db_url)
    try:
        db.check_current(engine)
        with partial.open("wb") as out:
            manifest = write_archive(engine, settings.data_dir, out, options)
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    rows = sum(table["rows"] for table in manifest["tables"])
    recordings = len(manifest["recordings"]["files"])
    print(
        f"wrote {output} ({output.stat().st_size} bytes: {rows} rows, "
        f"{recordings} recordings)"
    )
    return 0


def _restore_password(args: argparse.Namespace, archive: Path) -> str | None:
    password = _password(args)
    if password is not None or not sys.stdin.isatty():
        return password
    try:
        with archive.open("rb") as handle:
            encrypted = crypto.is_encrypted(handle.read(8))
    except OSError:
        return None
    return getpass.getpass("archive password: ") if encrypted else None


def run_restore(args: argparse.Namespace) -> int:
    settings = common.resolve(args)
    archive = Path(args.file)
    password = _restore_password(args, archive)
    try:
        result = restore(archive, settings, password)
    except ArchiveError as exc:
        if "encrypted; give its password" in str(exc):
            raise ArchiveError(
                f"the archive is encrypted; give --password or set {PASSWORD_ENV}"
            ) from None
        raise
    print(
        f"restored {result.rows} rows in {result.tables} tables and "
        f"{result.recordings} recordings into {settings.data_dir} "
        f"(database revision {result.revision})"
    )
    return 0
