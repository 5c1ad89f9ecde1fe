"""The customer-client launcher a session-generation request downloads.

A tiny script that runs ``supportbox customer --server URL --lsid LSID
--token TOKEN``, passing on any arguments it is given (``--allow``,
``--files-dir``, ``--json``): a POSIX shell script for Linux, macOS and
anything unrecognised, a ``.cmd`` batch file when the User-Agent says
Windows.
The token admits one customer once, so the file is useless after use.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from supportbox.errors import InvalidInput

_SH = """#!/bin/sh
# supportbox support session launcher ({site}).
# Runs the supportbox customer client to join a support session. The
# token below admits one customer, once.
set -eu
if ! command -v supportbox >/dev/null 2>&1; then
    echo "This support session needs the supportbox client." >&2
    echo "Install it from your support team, then run this file again." >&2
    exit 1
fi
exec supportbox customer --server {server} --lsid {lsid} --token {token} "$@"
"""

_CMD = """@echo off\r
rem supportbox support session launcher ({site}).\r
rem Runs the supportbox customer client to join a support session. The\r
rem token below admits one customer, once.\r
where supportbox >nul 2>nul\r
if errorlevel 1 (\r
    echo This support session needs the supportbox client.\r
    echo Install it from your support team, then run this file again.\r
    pause\r
    exit /b 1\r
)\r
supportbox customer --server "{server}" --lsid {lsid} --token {token} %*\r
if errorlevel 1 pause\r
"""

# Characters that never need quoting in a URL and mean nothing to cmd.exe
# inside double quotes ("%" would expand a variable, so it is refused).
_CMD_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/.-_~[]@+=,;?#"
)


@dataclass(frozen=True)
class Launcher:
    filename: str
    body: bytes


def for_user_agent(user_agent: str) -> str:
    """``cmd`` for a Windows browser, else ``sh``."""
    return "cmd" if "windows" in user_agent.lower() else "sh"


def render(kind: str, server: str, lsid: str, token: str, site: str) -> Launcher:
    """The launcher of ``kind`` (``sh`` or ``cmd``) for one session."""
    site = "".join(c for c in site if c.isprintable() and c not in "\r\n%^&|<>")
    if kind == "cmd":
        if not set(server) <= _CMD_SAFE:
            raise InvalidInput("the public URL has characters a .cmd file cannot carry")
        text = _CMD.format(site=site, server=server, lsid=lsid, token=token)
        return Launcher("supportbox-support.cmd", text.encode())
    text = _SH.format(
        site=site,
        server=shlex.quote(server),
        lsid=shlex.quote(lsid),
        token=shlex.quote(token),
    )
    return Launcher("supportbox-support.sh", text.encode())
