"""Where a transfer may read and write on the customer's computer."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from supportbox.digests import file_sha256
from supportbox.errors import TransferRefused
from supportbox.transfer import paths
from supportbox.transfer.files import IncomingFile, read_chunks

LIMIT = 1024


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    folder = tmp_path / "allowed"
    (folder / "sub").mkdir(parents=True)
    (folder / "report.txt").write_text("numbers")
    (tmp_path / "secret.txt").write_text("keep out")
    return folder


def test_a_relative_name_resolves_inside_the_allowed_folder(allowed: Path) -> None:
    assert paths.resolve_inside(allowed, "sub/new.txt") == (
        allowed.resolve() / "sub" / "new.txt"
    )
    assert paths.resolve_inside(allowed, "sub\\new.txt").name == "new.txt"


@pytest.mark.parametrize(
    ("requested", "reason"),
    [
        ("../secret.txt", "leaves the allowed folder"),
        ("sub/../../secret.txt", "leaves the allowed folder"),
        ("..\\secret.txt", "leaves the allowed folder"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("C:\\Windows\\win.ini", "absolute paths are not allowed"),
        ("", "no file name"),
        ("./", "no file name"),
        ("a\x00b", "NUL"),
    ],
)
def test_paths_that_escape_or_say_nothing_are_refused(
    allowed: Path, requested: str, reason: str
) -> None:
    with pytest.raises(TransferRefused, match=reason) as caught:
        paths.resolve_inside(allowed, requested)
    assert caught.value.path == requested


def test_a_symbolic_link_leading_outside_is_refused(allowed: Path) -> None:
    os.symlink(allowed.parent / "secret.txt", allowed / "link.txt")
    os.symlink(allowed.parent, allowed / "up")

    with pytest.raises(TransferRefused, match="symbolic link"):
        paths.download_source(allowed, "link.txt", LIMIT)
    with pytest.raises(TransferRefused, match="symbolic link"):
        paths.upload_target(allowed, "up/planted.txt", 3, LIMIT)


def test_a_symbolic_link_that_stays_inside_is_followed(allowed: Path) -> None:
    os.symlink(allowed / "report.txt", allowed / "sub" / "alias.txt")

    source, size = paths.download_source(allowed, "sub/alias.txt", LIMIT)

    assert source == (allowed / "report.txt").resolve()
    assert size == len("numbers")


def test_an_existing_file_is_not_overwritten_unless_asked(allowed: Path) -> None:
    with pytest.raises(TransferRefused, match="overwriting was not requested"):
        paths.upload_target(allowed, "report.txt", 3, LIMIT)

    target = paths.upload_target(allowed, "report.txt", 3, LIMIT, overwrite=True)
    assert target.name == "report.txt"


def test_files_over_the_size_limit_are_refused_both_ways(allowed: Path) -> None:
    with pytest.raises(TransferRefused, match="limit of 1024 bytes") as caught:
        paths.upload_target(allowed, "big.bin", LIMIT + 1, LIMIT)
    assert caught.value.size == LIMIT + 1

    with pytest.raises(TransferRefused, match="limit of 5 bytes"):
        paths.download_source(allowed, "report.txt", 5)


def test_folders_and_missing_files_cannot_be_downloaded(allowed: Path) -> None:
    with pytest.raises(TransferRefused, match="only regular files"):
        paths.download_source(allowed, "sub", LIMIT)
    with pytest.raises(TransferRefused, match="does not exist"):
        paths.download_source(allowed, "nothing.txt", LIMIT)


def test_a_received_file_appears_only_when_its_hash_matches(allowed: Path) -> None:
    body = b"0123456789" * 100
    target = paths.upload_target(allowed, "sub/body.bin", len(body), LIMIT * 2)

    incoming = IncomingFile(target, "sub/body.bin", len(body))
    for start in range(0, len(body), 300):
        incoming.write(body[start : start + 300])
    assert not target.exists()
    placed = incoming.finish(hashlib.sha256(body).hexdigest())

    assert placed.read_bytes() == body
    assert file_sha256(placed) == (hashlib.sha256(body).hexdigest(), len(body))
    assert b"".join(read_chunks(placed, 64)) == body
    assert sorted(p.name for p in (allowed / "sub").iterdir()) == ["body.bin"]


def test_a_corrupted_or_short_transfer_leaves_no_file(allowed: Path) -> None:
    target = allowed / "x.bin"
    bad_hash = IncomingFile(target, "x.bin", 3)
    bad_hash.write(b"abc")
    with pytest.raises(TransferRefused, match="SHA-256"):
        bad_hash.finish("0" * 64)

    short = IncomingFile(target, "x.bin", 10)
    short.write(b"abc")
    with pytest.raises(TransferRefused, match="after 3 of 10 bytes"):
        short.finish(hashlib.sha256(b"abc").hexdigest())

    long = IncomingFile(target, "x.bin", 2)
    with pytest.raises(TransferRefused, match="more data"):
        long.write(b"abc")

    assert not target.exists()
    assert [p.name for p in allowed.iterdir() if p.name.endswith(".part")] == []


def test_a_name_taken_during_the_transfer_is_not_overwritten(allowed: Path) -> None:
    target = paths.upload_target(allowed, "race.txt", 3, LIMIT)
    incoming = IncomingFile(target, "race.txt", 3)
    incoming.write(b"new")
    target.write_text("old")

    with pytest.raises(TransferRefused, match="overwriting was not requested"):
        incoming.finish(hashlib.sha256(b"new").hexdigest())
    assert target.read_text() == "old"
