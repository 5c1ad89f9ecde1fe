"""Streaming SHA-256 of files and byte streams, in bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1024 * 1024


def file_sha256(path: Path, chunk: int = CHUNK) -> tuple[str, int]:
    """The hex SHA-256 and the size of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def chunks_sha256(chunks: Iterable[bytes]) -> tuple[str, int]:
    """The hex SHA-256 and total size of a stream of chunks."""
    digest = hashlib.sha256()
    size = 0
    for block in chunks:
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size
