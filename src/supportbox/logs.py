"""The loggers of supportbox, named in one place.

* ``supportbox`` — lifecycle (start, stop, migrations) and errors.
* ``supportbox.access`` — one line per HTTP request.
* ``supportbox.session`` — one line per live session or connection
  opening and closing; per-message traffic is DEBUG.
* ``supportbox.audit`` — security-relevant actions (logins, tokens);
  these are also stored as audit events.

No line may carry a password, secret, token or session key.
"""

import logging
import sys

log = logging.getLogger("supportbox")
access_log = logging.getLogger("supportbox.access")
session_log = logging.getLogger("supportbox.session")
audit_log = logging.getLogger("supportbox.audit")

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(level: str) -> None:
    """Send supportbox's loggers to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger("supportbox")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # python-multipart warns (to bare stderr, having no handler) of every
    # malformed form body a client sends; the client is answered with the
    # error already, and the log would carry the noise of anyone's typos.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
