"""Password encryption of a backup: scrypt, then AES-256-GCM in chunks.

The layout (docs/backup.md, "Encrypted archives") is::

    header  magic "SBXENC01", kdf id 1 (scrypt), log2 N, r, p,
            16-byte salt, 7-byte nonce prefix, 4-byte chunk size
    mac     HMAC-SHA256 of the header under the MAC key
    chunks  AES-256-GCM of each chunk of the plain archive

scrypt turns the password into 64 bytes: the first 32 are the AES key,
the last 32 the MAC key. The MAC tells a wrong password from a damaged
file before any chunk is read. Chunk ``i`` uses the nonce
``prefix || i (4 bytes, big-endian) || last (1 byte)`` and the header as
associated data; every chunk but the last holds exactly ``chunk size``
plain bytes, and only the last carries ``last = 1``, so a file cut at a
chunk boundary, reordered or spliced fails to decrypt.
"""

from __future__ import annotations

import io
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from supportbox.errors import ArchiveError

MAGIC = b"SBXENC01"
KDF_SCRYPT = 1
LOG2_N = 17
R = 8
P = 1
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16

_HEADER = struct.Struct(">8sBBBB16s7sI")
HEADER_SIZE = _HEADER.size + 32


def _keys(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=64, n=2**log2_n, r=r, p=p)
    return kdf.derive(password.encode("utf-8"))


def _mac(key: bytes, header: bytes) -> hmac.HMAC:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(header)
    return mac


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise ArchiveError("the archive has more chunks than the format allows")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class EncryptingWriter(io.RawIOBase):
    """Encrypts what is written to it into ``target``.

    Nothing is final until :meth:`close`, which writes the last chunk;
    ``target`` itself is left open.
    """

    def __init__(self, target: BinaryIO, password: str) -> None:
        super().__init__()
        salt, prefix = os.urandom(16), os.urandom(7)
        self._header = _HEADER.pack(
            MAGIC, KDF_SCRYPT, LOG2_N, R, P, salt, prefix, CHUNK_SIZE
        )
        keys = _keys(password, salt, LOG2_N, R, P)
        self._aead = AESGCM(keys[:32])
        self._prefix = prefix
        self._target = target
        self._pending = bytearray()
        self._index = 0
        target.write(self._header + _mac(keys[32:], self._header).finalize())

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._pending += data
        # Keep at least one byte back: only close() knows the last chunk.
        while len(self._pending) > CHUNK_SIZE:
            self._emit(bytes(self._pending[:CHUNK_SIZE]), last=False)
            del self._pending[:CHUNK_SIZE]
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._pending), last=True)
            self._pending.clear()
        super().close()

    def _emit(self, chunk: bytes, last: bool) -> None:
        nonce = _nonce(self._prefix, self._index, last)
        self._target.write(self._aead.encrypt(nonce, chunk, self._header))
        self._index += 1


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _read_header(source: BinaryIO, password: str) -> tuple[AESGCM, bytes, bytes, int]:
    raw = source.read(HEADER_SIZE)
    if len(raw) < HEADER_SIZE:
        raise ArchiveError("the archive is truncated: its header is incomplete")
    header, mac = raw[: _HEADER.size], raw[_HEADER.size :]
    magic, kdf, log2_n, r, p, salt, prefix, chunk = _HEADER.unpack(header)
    if magic != MAGIC:
        raise ArchiveError("the archive is not an encrypted supportbox backup")
    # Bounds keep a crafted header from asking for gigabytes of memory.
    if kdf != KDF_SCRYPT or not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ArchiveError("the archive's encryption header is corrupt")
    if not 1024 <= chunk <= 16 * 1024 * 1024:
        raise ArchiveError("the archive's encryption header is corrupt")
    keys = _keys(password, salt, log2_n, r, p)
    try:
        _mac(keys[32:], header).verify(mac)
    except InvalidSignature:
        raise ArchiveError(
            "wrong password for the archive (or its header is corrupt)"
        ) from None
    return AESGCM(keys[:32]), header, prefix, chunk


def decrypt(source: BinaryIO, target: BinaryIO, password: str) -> None:
    """Decrypt all of ``source`` into ``target``; raise :class:`ArchiveError`
    on a wrong password, a damaged chunk or a truncated file."""
    aead, header, prefix, chunk_size = _read_header(source, password)
    sealed = source.read(chunk_size + TAG_SIZE)
    index = 0
    while True:
        following = source.read(chunk_size + TAG_SIZE)
        last = not following
        try:
            plain = aead.decrypt(_nonce(prefix, index, last), sealed, header)
        except InvalidTag:
            raise ArchiveError(
                f"the archive is corrupt or truncated (chunk {index} fails "
                "its authentication check)"
            ) from None
        if not last and len(plain) != chunk_size:
            raise ArchiveError("the archive is corrupt: a chunk has the wrong size")
        target.write(plain)
        if last:
            return
        sealed, index = following, index + 1
