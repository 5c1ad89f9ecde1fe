"""The backup archive format, version 1 (docs/backup.md).

A plain archive is a ZIP file::

    tables/<table>.jsonl       one JSON object per row, in primary-key order
    recordings/<path>          recording files, on request, by their path
                               relative to the data directory
    manifest.json              written last: versions, counts, checksums

Cells are JSON values. A JSON column's cell is ``null`` for SQL NULL and
a one-element list ``[value]`` otherwise, so that SQL NULL and JSON
``null`` stay apart. Bytes are base64 text; dates and times ISO 8601;
decimals and UUIDs text.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import JSON, Column, Table
from sqlalchemy import types as sqltypes

from supportbox.errors import ArchiveError

FORMAT = "supportbox-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLES_DIR = "tables/"
RECORDINGS_DIR = "recordings/"


def table_member(name: str) -> str:
    return f"{TABLES_DIR}{name}.jsonl"


def recording_member(relative: str) -> str:
    return RECORDINGS_DIR + relative


def safe_relative(path: str) -> PurePosixPath:
    """``path`` as a relative path that cannot climb out of its folder."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or ".." in pure.parts:
        raise ArchiveError(f"the archive names an unsafe path {path!r}")
    return pure


def is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


# What the writer does with values JSON cannot hold as they are.
_ENCODERS: list[tuple[type, Callable[[Any], Any]]] = [
    (bytes, lambda v: base64.b64encode(v).decode("ascii")),
    (memoryview, lambda v: base64.b64encode(bytes(v)).decode("ascii")),
    (dt.datetime, lambda v: v.isoformat()),
    (dt.date, lambda v: v.isoformat()),
    (dt.time, lambda v: v.isoformat()),
    (dt.timedelta, lambda v: v.total_seconds()),
    (decimal.Decimal, str),
    (uuid.UUID, str),
]


def encode_cell(value: Any, json_column: bool) -> Any:
    if json_column:
        return None if value is None else [value]
    for kind, encode in _ENCODERS:
        if isinstance(value, kind):
            return encode(value)
    return value


def _decoder(column: Column[Any]) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, sqltypes._Binary):
        return base64.b64decode
    if isinstance(kind, sqltypes.DateTime):
        return dt.datetime.fromisoformat
    if isinstance(kind, sqltypes.Date):
        return dt.date.fromisoformat
    if isinstance(kind, sqltypes.Time):
        return dt.time.fromisoformat
    if isinstance(kind, sqltypes.Interval):
        return lambda v: dt.timedelta(seconds=v)
    if isinstance(kind, sqltypes.Float):
        return None
    if isinstance(kind, sqltypes.Numeric) and kind.asdecimal:
        return decimal.Decimal
    if isinstance(kind, sqltypes.Uuid) and kind.as_uuid:
        return uuid.UUID
    return None


def row_decoder(
    table: Table, names: Sequence[str]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function turning an archived row of ``table`` into insert values.

    JSON cells become :data:`JSON.NULL` for a JSON ``null``; the caller
    inserts through JSON types with ``none_as_null`` so that ``None``
    stays SQL NULL.
    """
    missing = [name for name in names if name not in table.c]
    if missing:
        raise ArchiveError(
            f"table {table.name} in the archive has columns the database "
            f"lacks: {', '.join(missing)}"
        )
    json_names = {name for name in names if is_json(table.c[name])}
    decoders = {name: _decoder(table.c[name]) for name in names}

    def decode(row: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, cell in row.items():
            if cell is None:
                values[name] = None
            elif name in json_names:
                inner = cell[0]
                values[name] = JSON.NULL if inner is None else inner
            else:
                decode_one = decoders[name]
                values[name] = cell if decode_one is None else decode_one(cell)
        return values

    return decode
