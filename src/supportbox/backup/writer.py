"""Writing a backup archive from one snapshot of the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine, Table, select

from supportbox import __version__
from supportbox.backup import format as fmt
from supportbox.backup.crypto import EncryptingWriter
from supportbox.backup.snapshot import Snapshot, open_snapshot
from supportbox.logs import log
from supportbox.storage.models import Base

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupOptions:
    """What the caller asked for: a password, recordings or not."""

    password: str | None = None
    include_recordings: bool = False


def archive_filename(moment: float | None = None) -> str:
    """``supportbox-YYYY-MM-DD.nsb`` for the UTC date of ``moment``."""
    stamp = dt.datetime.fromtimestamp(moment or time.time(), dt.UTC)
    return f"supportbox-{stamp:%Y-%m-%d}.nsb"


@dataclass
class _Members:
    """The checksums and sizes of the members written so far."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def note(self, name: str, digest: Any, size: int) -> None:
        self.entries[name] = {"sha256": digest.hexdigest(), "size": size}


def _write_table(
    archive: zipfile.ZipFile, snapshot: Snapshot, table: Table, members: _Members
) -> dict[str, Any]:
    name = fmt.table_member(table.name)
    digest, size, rows = hashlib.sha256(), 0, 0
    with archive.open(name, "w", force_zip64=True) as member:
        for batch in snapshot.rows(table):
            chunk = "".join(
                json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n"
                for row in batch
            ).encode("utf-8")
            member.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            rows += len(batch)
    members.note(name, digest, size)
    return {
        "name": table.name,
        "member": name,
        "rows": rows,
        "columns": [column.name for column in table.c],
        "json_columns": [c.name for c in table.c if fmt.is_json(c)],
    }


def _locate(data_dir: Path, stored: str) -> tuple[Path, str] | None:
    """The file a ``recording.path`` names and its path relative to
    ``data_dir``; ``None`` when it lies outside the data directory."""
    root = data_dir.resolve()
    path = Path(stored)
    full = (path if path.is_absolute() else root / path).resolve()
    try:
        relative = full.relative_to(root)
    except ValueError:
        return None
    return full, relative.as_posix()


def _copy_file(
    archive: zipfile.ZipFile, source: Path, name: str, members: _Members
) -> None:
    info = zipfile.ZipInfo(name, time.gmtime()[:6])
    # Screen recordings are compressed already; store them as they are.
    info.compress_type = zipfile.ZIP_STORED
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as handle, archive.open(info, "w", force_zip64=True) as out:
        while chunk := handle.read(COPY_CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    members.note(name, digest, size)


def _write_recordings(
    archive: zipfile.ZipFile, snapshot: Snapshot, data_dir: Path, members: _Members
) -> dict[str, Any]:
    table = Base.metadata.tables["recording"]
    query = select(table.c.id, table.c.path).order_by(table.c.id)
    files: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for row in snapshot.execute(query):
        recording_id, stored = row.id, row.path
        located = _locate(data_dir, stored)
        if located is None or not located[0].is_file():
            missing.append({"id": recording_id, "path": stored})
            continue
        full, relative = located
        name = fmt.recording_member(relative)
        if name not in members.entries:
            _copy_file(archive, full, name, members)
        files.append({"id": recording_id, "path": stored, "member": name})
    if missing:
        log.warning("backup: %d recording files are missing or outside", len(missing))
    return {"included": True, "files": files, "missing": missing}


def write_archive(
    engine: Engine, data_dir: Path, out: BinaryIO, options: BackupOptions
) -> dict[str, Any]:
    """Write a whole backup to ``out`` and return its manifest.

    ``out`` needs only ``write``; the archive is produced as it is read
    from the database, so memory use does not grow with its size.
    """
    created = time.time()
    encryptor = EncryptingWriter(out, options.password) if options.password else None
    target: BinaryIO = encryptor if encryptor is not None else out  # type: ignore[assignment]
    members = _Members()

    with (
        open_snapshot(engine) as snapshot,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        tables = [
            _write_table(archive, snapshot, table, members)
            for table in Base.metadata.sorted_tables
        ]
        recordings: dict[str, Any] = {"included": False, "files": [], "missing": []}
        if options.include_recordings:
            recordings = _write_recordings(archive, snapshot, data_dir, members)
        manifest = {
            "format": fmt.FORMAT,
            "format_version": fmt.FORMAT_VERSION,
            "product": "supportbox",
            "product_version": __version__,
            "alembic_revision": snapshot.alembic_revision(),
            "database": snapshot.dialect,
            "created_at": created,
            "created": dt.datetime.fromtimestamp(created, dt.UTC).isoformat(),
            "encrypted": encryptor is not None,
            "tables": tables,
            "recordings": recordings,
            "members": members.entries,
        }
        archive.writestr(fmt.MANIFEST, json.dumps(manifest, indent=2))

    if encryptor is not None:
        encryptor.close()
    return manifest
