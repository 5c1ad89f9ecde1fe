"""What reaches the server's log (supportbox.logs)."""

from __future__ import annotations

import subprocess
import sys

# A process of its own: pytest puts handlers of its own on the root logger.
PROGRAM = """
import logging
from supportbox import logs
logs.configure("info")
# What python-multipart says of a form body with a broken boundary.
logging.getLogger("python_multipart.multipart").warning(
    "Expected boundary character 45, got 103 at index 2"
)
logging.getLogger("supportbox").info("still logged")
"""


def test_malformed_form_bodies_leave_no_stray_lines_in_the_log() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "boundary" not in done.stderr
    assert "supportbox: still logged" in done.stderr
