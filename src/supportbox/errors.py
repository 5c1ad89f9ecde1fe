"""The one exception tree of supportbox.

::

    SupportboxError
    ├── ConfigError (ValueError)          a setting has a value it cannot take
    ├── StorageError
    │   ├── DatabaseBehind                migrations are pending
    │   └── DatabaseAhead                 the database is newer than this code
    ├── NotFound (LookupError)            a named thing does not exist
    ├── Conflict                          a name is taken, a state forbids it
    ├── InvalidInput (ValueError)         a value is malformed or out of limits
    ├── AuthError                         credentials are missing or wrong
    │   └── RateLimited                   too many failures, locked for a while
    ├── PermissionDenied                  authenticated, but not allowed
    ├── SessionStateError                 the session cannot do that now
    └── TransferRefused                   a file transfer is not allowed

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


class Conflict(SupportboxError):
    """The request collides with existing state (a taken name, ...)."""


class InvalidInput(SupportboxError, ValueError):
    """A value is malformed, missing or over its limit."""


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
