"""The view and download URLs a report hands out, signed and expiring.

Chat transcripts keep the appliance's shape (spec 5.3),
``/session_download?lsid=<token>&dl_action=chat[&view=1]``, and so do
screen, "show my screen" and presentation recordings (MP4). Shell
recordings point at the audited player and download routes of
:mod:`supportbox.recording.links`.
Every token comes from the one server signer (:mod:`supportbox.auth.links`)
and names the API account it was handed to, which the recording access
trail records when the link is used.
"""

from __future__ import annotations

from urllib.parse import quote

from supportbox.auth.links import Claims, Signer
from supportbox.recording import links as recording_links

#: The purpose of a ``/session_download`` token.
PURPOSE = "session-download"
PATH = "/session_download"
MEDIA = ("chat", "screen", "show_my_screen", "presentation")


class LinkMaker:
    """Builds the view and download URLs of one report run."""

    def __init__(
        self, signer: Signer, base_url: str, ttl: int, now: float, audience: str
    ) -> None:
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.expires = int(now) + ttl
        self.audience = audience

    def urls(self, lsid: str, medium: str, instance: int = 0) -> tuple[str, str]:
        """``(view_url, download_url)`` for one medium of one session."""
        if medium == "shell":
            shell = recording_links.shell_urls(
                self.signer, self.base_url, lsid, instance, self.audience, self.expires
            )
            return shell.view_url, shell.download_url
        about = recording_links.subject(lsid, medium, instance)
        token = self.signer.sign(Claims(PURPOSE, about, self.audience, self.expires))
        download = (
            f"{self.base_url}{PATH}?lsid={quote(token, safe='')}&dl_action={medium}"
        )
        return download + "&view=1", download
