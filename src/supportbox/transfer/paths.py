"""Where a requested file may be on the customer's computer, and where not.

The customer allows one folder. Every path the representative asks for is
taken relative to it and must stay inside it: no absolute paths, no
``..``, no symbolic link that points outside, no overwriting unless the
representative asked to. Each refusal raises :class:`TransferRefused`
naming the path and the reason.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from supportbox.errors import TransferRefused

_DRIVE = re.compile(r"^[A-Za-z]:")


def _parts(requested: str) -> list[str]:
    if not requested or not requested.strip():
        raise TransferRefused("no file name was given", requested)
    if "\x00" in requested:
        raise TransferRefused("the path contains a NUL character", requested)
    # Representatives on Windows send backslashes; treat them as separators.
    text = requested.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise TransferRefused("absolute paths are not allowed", requested)
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if ".." in parts:
        raise TransferRefused("the path leaves the allowed folder (..)", requested)
    if not parts:
        raise TransferRefused("no file name was given", requested)
    return parts


def resolve_inside(root: Path, requested: str) -> Path:
    """The file ``requested`` names inside ``root``, symbolic links resolved.

    Raises :class:`TransferRefused` if it would be anywhere else.
    """
    base = root.resolve(strict=True)
    candidate = base.joinpath(*_parts(requested))
    real = Path(os.path.realpath(candidate))
    if real != base and base not in real.parents:
        raise TransferRefused(
            "a symbolic link leads outside the allowed folder", requested
        )
    return real


def check_size(requested: str, size: int, limit: int) -> None:
    if size < 0:
        raise TransferRefused("the file size is negative", requested, size)
    if size > limit:
        raise TransferRefused(
            f"the file is larger than the limit of {limit} bytes", requested, size
        )


def upload_target(
    root: Path, requested: str, size: int, limit: int, *, overwrite: bool = False
) -> Path:
    """Where a file sent to the customer goes; refuses what it must not do."""
    check_size(requested, size, limit)
    target = resolve_inside(root, requested)
    if target.is_dir():
        raise TransferRefused("a folder has that name", requested, size)
    if target.exists() and not overwrite:
        raise TransferRefused(
            "the file exists and overwriting was not requested", requested, size
        )
    if not target.parent.is_dir():
        raise TransferRefused("the folder does not exist", requested, size)
    return target


def download_source(root: Path, requested: str, limit: int) -> tuple[Path, int]:
    """The customer's file the representative asked for, and its size."""
    source = resolve_inside(root, requested)
    try:
        info = source.stat()
    except FileNotFoundError:
        raise TransferRefused("the file does not exist", requested) from None
    except OSError as exc:
        reason = f"the file cannot be read: {exc.strerror}"
        raise TransferRefused(reason, requested) from None
    if not stat.S_ISREG(info.st_mode):
        raise TransferRefused("only regular files can be sent", requested)
    check_size(requested, info.st_size, limit)
    return source, info.st_size
