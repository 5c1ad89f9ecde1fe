"""Static files: our own stylesheet and scripts, and front-end packages.

The front-end packages (xterm.js, asciinema-player) come from the npm
registry at install time (``make assets`` runs ``npm ci``) into the
repository's ``node_modules``; only their distribution folders are served.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"

#: URL folder under /vendor -> folder inside node_modules.
VENDOR = {
    "xterm": "@xterm/xterm",
    "xterm-fit": "@xterm/addon-fit",
    "asciinema-player": "asciinema-player/dist/bundle",  # the recording player
}


def routes() -> list[BaseRoute]:
    mounts: list[BaseRoute] = [
        Mount("/static", StaticFiles(directory=STATIC), name="static")
    ]
    for url, folder in VENDOR.items():
        path = NODE_MODULES / folder
        mounts.append(
            Mount(f"/vendor/{url}", StaticFiles(directory=path, check_dir=False))
        )
    return mounts


def vendored(url: str) -> bool:
    """True when the npm package behind ``/vendor/<url>`` is installed."""
    return (NODE_MODULES / VENDOR[url]).is_dir()
