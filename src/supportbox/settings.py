"""Settings, declared once as data.

Each setting has a command-line flag (``--data-dir``), an environment
variable (``SUPPORTBOX_DATA_DIR``) and a line in ``docs/settings.md``;
a test fails when one of the three is missing. A flag beats the
environment, which beats the default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from supportbox.errors import ConfigError

NAMESPACE_FAMILIES = {
    "bomgar": "http://www.bomgar.com/namespaces/API/{api}",
    "beyondtrust": "http://www.beyondtrust.com/sra/namespaces/API/{api}",
    "none": "",
}


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, got {text!r}")


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return port


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive whole number, got {value}")
    return value


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, default, parser and help text."""

    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()
    secret: bool = False

    @property
    def env(self) -> str:
        return "SUPPORTBOX_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "address the server listens on"),
    Setting("port", "8080", "TCP port the server listens on", _port),
    Setting("data_dir", "./data", "folder for the database, recordings and keys"),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the database; empty means an SQLite file "
        "supportbox.db in the data directory (WAL mode)",
        secret=True,
    ),
    Setting(
        "public_url",
        "",
        "base URL customers and integrations reach the server at, used in "
        "key URLs and report links; empty means http://HOST:PORT",
    ),
    Setting(
        "company_name",
        "supportbox",
        "the Company API Name reported by get_api_info",
    ),
    Setting(
        "xml_namespace",
        "bomgar",
        "namespace family of the XML APIs: bomgar (http://www.bomgar.com/...), "
        "beyondtrust (http://www.beyondtrust.com/sra/...) or none",
        choices=tuple(NAMESPACE_FAMILIES),
    ),
    Setting(
        "legacy_api_auth",
        "0",
        "accept username/password parameters on the XML APIs (pre-OAuth "
        "integrations); off by default",
        _bool,
    ),
    Setting(
        "log_level",
        "info",
        "lowest level logged: debug, info, warning or error",
        choices=("debug", "info", "warning", "error"),
    ),
    Setting(
        "report_timezone",
        "UTC",
        "time zone in which report date anchors (start_date, end_date) begin "
        "at midnight",
    ),
    Setting(
        "resume_grace",
        "60",
        "seconds a disconnected client may take to resume its session",
        _positive,
    ),
    Setting(
        "live_idle_timeout",
        "60",
        "seconds a live WebSocket client may stay silent (no message, not even "
        "a ping) before the server closes its connection",
        _positive,
    ),
    Setting(
        "max_transfer_size",
        str(2 * 1024**3),
        "largest file, in bytes, that a file transfer may carry",
        _positive,
    ),
    Setting(
        "recording_link_lifetime",
        str(7 * 24 * 3600),
        "seconds a signed view or download link of a recording stays valid",
        _positive,
    ),
    Setting(
        "broker_url",
        "",
        "where live traffic between nodes goes: empty for in-process, or "
        "redis://HOST:PORT/DB to share it between nodes",
    ),
    Setting(
        "require_admin_totp",
        "0",
        "administrators must log in to the web interface with a TOTP second "
        "factor; those without one are sent to enrol first",
        _bool,
    ),
    Setting(
        "web_session_hours",
        "12",
        "hours a web login (admin interface, console) lasts before the user "
        "must log in again",
        _positive,
    ),
    Setting(
        "key_guess_limit",
        "10",
        "wrong session keys one client address may enter on the public "
        "site within 10 minutes before it must wait",
        _positive,
    ),
    Setting(
        "webhook_timeout",
        "10",
        "seconds one outbound event post may take, connecting included, "
        "before it counts as failed and is retried",
        _positive,
    ),
    Setting(
        "webhook_poll_interval",
        "5",
        "seconds between looks for outbound events queued by other nodes "
        "or replayed from the command line",
        _positive,
    ),
    Setting(
        "report_link_ttl",
        str(30 * 86400),
        "seconds the signed transcript and recording links in reports stay valid",
        _positive,
    ),
    Setting(
        "screen_recording",
        "1",
        "record every shared screen (support sessions and presentations) "
        "to an MP4 file",
        _bool,
    ),
    Setting(
        "require_screen_recording",
        "0",
        "refuse to start screen sharing when its recording cannot be written",
        _bool,
    ),
    Setting(
        "max_presentation_attendees",
        "100",
        "attendees one presentation may have at once; more are refused",
        _positive,
    ),
    Setting(
        "max_attendees_per_address",
        "5",
        "attendees of one presentation that may watch from one client "
        "address at once; more are refused",
        _positive,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one supportbox process."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./data")
    database_url: str = ""
    public_url: str = ""
    company_name: str = "supportbox"
    xml_namespace: str = "bomgar"
    legacy_api_auth: bool = False
    log_level: str = "info"
    report_timezone: str = "UTC"
    resume_grace: int = 60
    live_idle_timeout: int = 60
    max_transfer_size: int = 2 * 1024**3
    recording_link_lifetime: int = 7 * 24 * 3600
    broker_url: str = ""
    require_admin_totp: bool = False
    web_session_hours: int = 12
    key_guess_limit: int = 10
    webhook_timeout: int = 10
    webhook_poll_interval: int = 5
    report_link_ttl: int = 30 * 86400
    screen_recording: bool = True
    require_screen_recording: bool = False
    max_presentation_attendees: int = 100
    max_attendees_per_address: int = 5
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        """The database URL, with the SQLite default filled in."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'supportbox.db').resolve()}"

    @property
    def base_url(self) -> str:
        """The public base URL without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in {"0.0.0.0", "::"} else self.host
        return f"http://{host}:{self.port}"

    def namespace(self, api: str) -> str:
        """The default XML namespace for ``api`` ("command", "reporting")."""
        return NAMESPACE_FAMILIES[self.xml_namespace].format(api=api)

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def _convert(setting: Setting, raw: str, source: str) -> Any:
    if setting.choices and raw not in setting.choices:
        allowed = ", ".join(setting.choices)
        raise ConfigError(f"{source}: {raw!r} is not one of {allowed}")
    try:
        value = setting.parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if setting.name == "data_dir":
        return Path(value)
    return value


def load(
    flags: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting from flags, then the environment, then defaults.

    ``flags`` maps setting names to the raw flag text (``None`` = not given).
    Raises :class:`ConfigError` naming the flag or variable that is wrong.
    """
    flags = flags or {}
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = flags.get(setting.name)
        source = setting.flag
        if raw is None and setting.env in environ:
            raw, source = environ[setting.env], setting.env
        if raw is None:
            raw, source = setting.default, f"default of {setting.name}"
        values[setting.name] = _convert(setting, raw, source)
    return Settings(**values)
