"""Opening a backup archive and proving it whole before anything is restored.

:func:`open_archive` decrypts (when needed) into an anonymous temporary
file, then reads every member once: the ZIP CRCs, the manifest's SHA-256
checksums and row counts must all agree, and the archive must be of a
format and a database revision this supportbox knows. Only then does it
hand the archive over.
"""

from __future__ import annotations

import hashlib
import json
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from supportbox.backup import crypto
from supportbox.backup import format as fmt
from supportbox.errors import ArchiveError
from supportbox.storage import db

BATCH = 1000

#: What zipfile raises on damaged bytes: a flipped bit can make a member
#: look encrypted (RuntimeError), use an unknown method
#: (NotImplementedError) or go missing from the directory (KeyError).
_DAMAGE = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,
)


@dataclass
class Archive:
    """A verified archive: its manifest and its members."""

    zip: zipfile.ZipFile
    manifest: dict[str, Any]

    @property
    def tables(self) -> list[dict[str, Any]]:
        tables: list[dict[str, Any]] = self.manifest["tables"]
        return tables

    @property
    def recordings(self) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = self.manifest["recordings"]["files"]
        return files

    def open(self, member: str) -> IO[bytes]:
        return self.zip.open(member)

    def rows(self, entry: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The rows of one manifest table entry, in batches."""
        batch: list[dict[str, Any]] = []
        with self.zip.open(entry["member"]) as member:
            for line in member:
                batch.append(json.loads(line))
                if len(batch) >= BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch


def _plain_file(path: Path, password: str | None, stack: ExitStack) -> IO[bytes]:
    try:
        source = stack.enter_context(path.open("rb"))
    except OSError as exc:
        raise ArchiveError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    head = source.read(8)
    source.seek(0)
    if crypto.is_encrypted(head):
        if not password:
            raise ArchiveError("the archive is encrypted; give its password")
        plain = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        crypto.decrypt(source, plain, password)
        plain.seek(0)
        return plain
    if head.startswith(b"PK\x03\x04"):
        return source
    if not head:
        raise ArchiveError(f"{str(path)!r} is empty")
    raise ArchiveError(f"{str(path)!r} is not a supportbox backup")


def _check_versions(manifest: dict[str, Any]) -> None:
    if manifest.get("format") != fmt.FORMAT:
        raise ArchiveError("the archive is not a supportbox backup")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArchiveError("the archive's manifest has no valid format version")
    if version > fmt.FORMAT_VERSION:
        raise ArchiveError(
            f"the archive has format version {version}, newer than the "
            f"{fmt.FORMAT_VERSION} this supportbox reads; upgrade supportbox"
        )
    revision = manifest.get("alembic_revision")
    if revision not in db.known_revisions():
        raise ArchiveError(
            f"the archive comes from a newer supportbox (database revision "
            f"{revision}); upgrade supportbox"
        )


def _check_shape(manifest: dict[str, Any]) -> None:
    """Every field the restore reads has the type it expects."""
    tables, members = manifest.get("tables"), manifest.get("members")
    recordings = manifest.get("recordings")
    ok = (
        isinstance(tables, list)
        and isinstance(members, dict)
        and isinstance(recordings, dict)
        and isinstance(recordings.get("files"), list)
        and all(
            isinstance(t, dict)
            and isinstance(t.get("name"), str)
            and t.get("member") == fmt.table_member(t["name"])
            and isinstance(t.get("rows"), int)
            and isinstance(t.get("columns"), list)
            and isinstance(t.get("json_columns"), list)
            for t in tables
        )
        and all(
            isinstance(m, dict)
            and isinstance(m.get("sha256"), str)
            and isinstance(m.get("size"), int)
            for m in members.values()
        )
        and all(
            isinstance(f, dict)
            and isinstance(f.get("id"), int)
            and isinstance(f.get("path"), str)
            and isinstance(f.get("member"), str)
            and f["member"] in members
            for f in recordings["files"]
        )
    )
    if not ok or not isinstance(recordings, dict):
        raise ArchiveError("the archive's manifest is malformed")
    for entry in recordings["files"]:
        fmt.safe_relative(entry["member"].removeprefix(fmt.RECORDINGS_DIR))


def _check_row(row: Any, columns: set[str], json_columns: set[str]) -> None:
    if not isinstance(row, dict) or not set(row) <= columns:
        raise ValueError("a row does not match its table's columns")
    for name in json_columns & set(row):
        cell = row[name]
        if cell is not None and not (isinstance(cell, list) and len(cell) == 1):
            raise ValueError(f"column {name} holds a malformed JSON cell")


def _check_member(
    archive: zipfile.ZipFile, name: str, expected: dict[str, Any], table: Any
) -> None:
    digest, size, rows = hashlib.sha256(), 0, 0
    columns = set(table["columns"]) if table else set()
    json_columns = set(table["json_columns"]) if table else set()
    with archive.open(name) as member:
        if table is None:
            while chunk := member.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
        else:
            for line in member:
                digest.update(line)
                size += len(line)
                _check_row(json.loads(line), columns, json_columns)
                rows += 1
    if digest.hexdigest() != expected["sha256"] or size != expected["size"]:
        raise ArchiveError(f"the archive is corrupt: {name} fails its checksum")
    if table is not None and rows != table["rows"]:
        raise ArchiveError(f"the archive is corrupt: {name} has {rows} rows")


def _verify(archive: zipfile.ZipFile) -> dict[str, Any]:
    names = archive.namelist()
    if fmt.MANIFEST not in names:
        raise ArchiveError("the archive has no manifest")
    try:
        manifest = json.loads(archive.read(fmt.MANIFEST))
    except (*_DAMAGE, UnicodeDecodeError) as exc:
        raise ArchiveError(f"the archive's manifest is unreadable ({exc})") from None
    if not isinstance(manifest, dict):
        raise ArchiveError("the archive's manifest is malformed")

    _check_versions(manifest)
    _check_shape(manifest)
    members: dict[str, Any] = manifest["members"]
    listed = [n for n in names if n != fmt.MANIFEST]
    if len(set(names)) != len(names) or set(listed) != set(members):
        raise ArchiveError("the archive's members do not match its manifest")

    tables = {t["member"]: t for t in manifest["tables"]}
    if not set(tables) <= set(members):
        raise ArchiveError("the archive's members do not match its manifest")
    for name in listed:
        try:
            _check_member(archive, name, members[name], tables.get(name))
        except ArchiveError:
            raise
        except _DAMAGE as exc:
            raise ArchiveError(f"the archive is corrupt: {name}: {exc}") from None
    return manifest


@contextmanager
def open_archive(path: Path, password: str | None = None) -> Iterator[Archive]:
    """The archive at ``path``, verified in full; see the module docstring.

    Raises :class:`ArchiveError` with a message fit for the user.
    """
    with ExitStack() as stack:
        plain = _plain_file(path, password, stack)
        try:
            archive = stack.enter_context(zipfile.ZipFile(plain))
        except _DAMAGE:
            raise ArchiveError(
                "the archive is corrupt or truncated (its ZIP directory is unreadable)"
            ) from None
        yield Archive(archive, _verify(archive))
