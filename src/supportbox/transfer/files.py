"""Receiving a file in chunks, and reading one in chunks, with its hash.

A received file is written to a hidden ``.<name>.<random>.part`` file in
the target folder and moves to its name only when its size and SHA-256
match what the sender announced, so a broken transfer never leaves a
half file under the real name.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from supportbox.errors import TransferRefused

CHUNK = 256 * 1024


class IncomingFile:
    """A file being received at ``target``; see the module docstring."""

    def __init__(
        self, target: Path, requested: str, size: int, *, overwrite: bool = False
    ) -> None:
        self.target = target
        self.requested = requested
        self.size = size
        self.overwrite = overwrite
        self.received = 0
        self._hash = hashlib.sha256()
        name = f".{target.name}.{secrets.token_hex(4)}.part"
        self._part = target.with_name(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self._fd = os.open(self._part, flags, 0o600)

    def write(self, chunk: bytes | memoryview) -> None:
        if self.received + len(chunk) > self.size:
            self.abort()
            raise TransferRefused(
                "more data arrived than the announced size", self.requested, self.size
            )
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._hash.update(chunk)
        self.received += len(chunk)

    def finish(self, sha256: str) -> Path:
        """Check size and hash, then move the file to its name."""
        os.close(self._fd)
        self._fd = -1
        if self.received != self.size:
            self.abort()
            raise TransferRefused(
                f"the transfer ended after {self.received} of {self.size} bytes",
                self.requested,
                self.size,
            )
        if self._hash.hexdigest() != sha256.lower():
            self.abort()
            raise TransferRefused(
                "the SHA-256 of the received file does not match",
                self.requested,
                self.size,
            )
        if self.overwrite:
            os.replace(self._part, self.target)
        else:
            self._place_without_overwrite()
        return self.target

    def _place_without_overwrite(self) -> None:
        # A hard link fails if the name was taken meanwhile; rename would not.
        try:
            os.link(self._part, self.target)
        except FileExistsError:
            self.abort()
            raise TransferRefused(
                "the file exists and overwriting was not requested",
                self.requested,
                self.size,
            ) from None
        os.unlink(self._part)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def abort(self) -> None:
        """Drop what was received; safe to call more than once."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._part.unlink(missing_ok=True)


def read_chunks(path: Path, chunk: int = CHUNK) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            yield block
