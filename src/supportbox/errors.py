"""The one exception tree of supportbox.

::

    SupportboxError
    ├── ConfigError (ValueError)          a setting has a value it cannot take
    ├── StorageError
    │   ├── DatabaseBehind                migrations are pending
    │   └── DatabaseAhead                 the database is newer than this code
    ├── NotFound (LookupError)            a named thing does not exist
    │   └── RecordingGone                 a listed recording's file is gone
    ├── Conflict                          a name is taken, a state forbids it
    ├── InvalidInput (ValueError)         a value is malformed or out of limits
    │   └── ProtocolError                 a live frame the server cannot take
    ├── AuthError                         credentials are missing or wrong
    │   └── RateLimited                   too many failures, locked for a while
    ├── PermissionDenied                  authenticated, but not allowed
    ├── SessionStateError                 the session cannot do that now
    │   └── RecordingRequired             sharing needs a recording it cannot have
    ├── TransferRefused                   a file transfer is not allowed
    ├── ArchiveError (ValueError)         a backup archive cannot be restored
    ├── LinkFailed                        a client cannot reach or join the server
    ├── ResumeRefused (ConnectionError)   a node did not know a resume token
    └── ReaderGone                        nobody reads a streamed body any more

Messages are lower-case, carry no trailing period and state the condition.
The HTTP layers turn these into ``<error>`` documents or readable pages;
anything else that escapes a handler is logged and answered generically.
"""


class SupportboxError(Exception):
    """Base class of every error supportbox raises on purpose."""


class ConfigError(SupportboxError, ValueError):
    """A setting has a value it cannot take."""


class StorageError(SupportboxError):
    """The database cannot be used as it is."""


class DatabaseBehind(StorageError):
    """The database needs migrations that have not been applied."""


class DatabaseAhead(StorageError):
    """The database was written by a newer supportbox."""


class NotFound(SupportboxError, LookupError):
    """A named thing (user, team, session, ...) does not exist."""


class RecordingGone(NotFound):
    """The recording is listed but its file is no longer on disk."""


class Conflict(SupportboxError):
    """The request collides with existing state (a taken name, ...)."""


class InvalidInput(SupportboxError, ValueError):
    """A value is malformed, missing or over its limit."""


class ProtocolError(InvalidInput):
    """A live frame the server answers with an ``error`` frame and then
    ignores; ``code`` is the frame's code, ``re`` the id it answers."""

    def __init__(self, code: str, message: str, re: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.re = re


class AuthError(SupportboxError):
    """Credentials are missing or wrong."""


class RateLimited(AuthError):
    """Too many failures from this address or for this account."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermissionDenied(SupportboxError):
    """The caller is known but not allowed to do this."""


class SessionStateError(SupportboxError):
    """The session is not in a state that allows the operation."""


class RecordingRequired(SessionStateError):
    """Screen recording is required, and this screen's cannot be written."""


class TransferRefused(SupportboxError):
    """A file transfer was refused; the representative is told why.

    ``path`` is the path as the representative asked for it, ``size`` the
    size in bytes when known, and the message (``reason``) the cause.
    """

    def __init__(self, reason: str, path: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.size = size


class ArchiveError(SupportboxError, ValueError):
    """A backup archive is corrupt, truncated, encrypted with another
    password, or newer than this supportbox."""


class LinkFailed(SupportboxError):
    """A client was refused by the server, or could not reach it again
    in time."""


class ResumeRefused(SupportboxError, ConnectionError):
    """A node did not know a client's resume token; the client logs in again."""


class ReaderGone(SupportboxError):
    """Nobody reads a streamed body any more; raised in the thread that
    writes it so that it stops, and never seen by a peer."""
