"""What the customer client tells the representative about its machine."""

from __future__ import annotations

import getpass
import platform
import socket
from typing import Any
from urllib.parse import urlsplit


def private_ip(server: str) -> str:
    """The local address this machine uses to reach ``server``."""
    host = urlsplit(server).hostname or "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))  # UDP: nothing is sent
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        return "Unknown"


def username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "Unknown"


def overview(server: str) -> dict[str, str]:
    return {
        "hostname": socket.gethostname() or "Unknown",
        "os": platform.platform(terse=True) or "Unknown",
        "username": username(),
        "private_ip": private_ip(server),
    }


def categories(server: str) -> list[dict[str, Any]]:
    """The ``system_info`` categories of the live protocol."""
    info = overview(server)
    return [{"name": "Overview", "fields": list(info), "rows": [list(info.values())]}]
