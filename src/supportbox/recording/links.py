"""The signed view and download links of a shell recording.

``view_url`` opens a page that plays the recording with asciinema-player;
``download_url`` returns the ``.cast`` file. Both carry a token signed by
the server (:mod:`supportbox.web.signing`) that expires after the setting
``recording_link_lifetime`` and names to whom it was handed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from supportbox.runtime import Runtime
from supportbox.web import signing

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


def shell_links(runtime: Runtime, lsid: str, instance: int, audience: str) -> Links:
    """Fresh links to shell recording ``instance`` of ``lsid``, for ``audience``.

    ``audience`` is written to the access trail when the link is used:
    ``api:<client id>`` for a report, ``event`` for a session event.
    """
    signer = signing.signer(runtime)
    lifetime = runtime.settings.recording_link_lifetime
    about = subject(lsid, "shell", instance)
    base = runtime.settings.base_url
    view = signer.issue(VIEW, about, audience, lifetime)
    download = signer.issue(DOWNLOAD, about, audience, lifetime)
    return Links(
        view_url=f"{base}{VIEW_PATH}?{urlencode({'t': view})}",
        download_url=f"{base}{DOWNLOAD_PATH}?{urlencode({'t': download})}",
    )
