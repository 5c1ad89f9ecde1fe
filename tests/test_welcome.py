"""`make run`'s banner (tools/welcome.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

WELCOME = Path(__file__).resolve().parent.parent / "tools" / "welcome.py"


def welcome(port: int, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(WELCOME),
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_taken_port_is_said_instead_of_the_banner(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = welcome(port, tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "make run PORT=" in done.stderr


def test_a_free_port_gets_the_banner(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    done = welcome(port, tmp_path)
    assert done.returncode == 0
    assert f"supportbox is starting on http://127.0.0.1:{port}" in done.stdout
