"""The signed view and download links of a shell recording.

``view_url`` opens a page that plays the recording with asciinema-player;
``download_url`` returns the ``.cast`` file. Both carry a token signed by
the server (:mod:`supportbox.auth.links`) that expires after the setting
``recording_link_lifetime`` and names to whom it was handed out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from supportbox.auth.links import Claims, Signer, signer
from supportbox.runtime import Runtime

VIEW = "recording-view"
DOWNLOAD = "recording-download"

VIEW_PATH = "/recordings/view"
PLAY_PATH = "/recordings/play"
DOWNLOAD_PATH = "/recordings/download"


@dataclass(frozen=True)
class Links:
    view_url: str
    download_url: str


def subject(lsid: str, kind: str, instance: int) -> str:
    return f"{lsid}/{kind}/{instance}"


def parse_subject(text: str) -> tuple[str, str, int]:
    lsid, kind, instance = text.split("/")
    return lsid, kind, int(instance)


def shell_urls(
    signer: Signer,
    base_url: str,
    lsid: str,
    instance: int,
    audience: str,
    expires_at: int,
) -> Links:
    """Links to shell recording ``instance`` of ``lsid`` valid until ``expires_at``."""
    about = subject(lsid, "shell", instance)
    base = base_url.rstrip("/")
    view = signer.sign(Claims(VIEW, about, audience, expires_at))
    download = signer.sign(Claims(DOWNLOAD, about, audience, expires_at))
    return Links(
        view_url=f"{base}{VIEW_PATH}?{urlencode({'t': view})}",
        download_url=f"{base}{DOWNLOAD_PATH}?{urlencode({'t': download})}",
    )


def shell_links(runtime: Runtime, lsid: str, instance: int, audience: str) -> Links:
    """Fresh links to shell recording ``instance`` of ``lsid``, for ``audience``.

    ``audience`` is written to the access trail when the link is used:
    ``api:<account name>`` for a report, ``event`` for a session event,
    ``web:<username>`` for the admin pages.
    """
    settings = runtime.settings
    expires = int(time.time()) + settings.recording_link_lifetime
    return shell_urls(
        signer(runtime), settings.base_url, lsid, instance, audience, expires
    )
