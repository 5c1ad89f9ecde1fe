"""The representative's ``/send`` and ``/fetch`` (see :mod:`.transfers`).

Each transfer ends with one ``transfer_done`` or ``transfer_failed`` line
(``--json``) or a readable line saying the size, the SHA-256 and whether
both ends agree.
"""

from __future__ import annotations

import asyncio
from typing import Any

from supportbox.clients import transfers
from supportbox.clients.console import Console
from supportbox.clients.link import Link
from supportbox.clients.transfers import Download, Upload
from supportbox.errors import LinkFailed, TransferRefused
from supportbox.transfer.files import IncomingFile


class Files:
    link: Link
    console: Console

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uploads: dict[int, Upload] = {}
        self.downloads: dict[int, Download] = {}
        #: Transfers asked for, by command id, until the reply names the channel.
        self.asked: dict[str, Upload | Download] = {}
        #: Channels already said to be unknown.
        self.dropped: set[int] = set()

    def session(self) -> str | None:
        raise NotImplementedError

    def report(self, outcome: dict[str, Any]) -> None:
        if self.console.as_json:
            self.console.frame(outcome)
        else:
            self.console.say(transfers.describe(outcome))

    async def send_file(self, local: str, remote: str) -> None:
        lsid = self.session()
        if lsid is None:
            return
        try:
            path, size = transfers.upload_source(local)
        except TransferRefused as exc:
            self.report(transfers.failed("send", remote, local, exc.reason))
            return
        # Known by the command's id until its reply names the channel: the
        # reply and the customer's first answer may come in one read, and
        # both are taken in the order they came (see file_frame).
        ident = await self.link.command("file_send", lsid=lsid, path=remote, size=size)
        self.asked[ident] = Upload(path, remote, size)

    async def fetch_file(self, remote: str, local: str) -> None:
        lsid = self.session()
        if lsid is None:
            return
        try:
            target = transfers.download_target(remote, local)
        except TransferRefused as exc:
            self.report(transfers.failed("fetch", remote, local, exc.reason))
            return
        ident = await self.link.command("file_fetch", lsid=lsid, path=remote)
        self.asked[ident] = Download(remote, target)

    def _replied(self, frame: dict[str, Any]) -> None:
        """The server's answer to a ``/send`` or ``/fetch``: its channel, or why not."""
        transfer = self.asked.pop(str(frame.get("re")), None)
        if transfer is None:
            return
        if frame.get("type") == "ok" and isinstance(frame.get("channel"), int):
            if isinstance(transfer, Upload):
                self.uploads[frame["channel"]] = transfer
            else:
                self.downloads[frame["channel"]] = transfer
            return
        direction = "send" if isinstance(transfer, Upload) else "fetch"
        self.report(
            transfers.failed(
                direction,
                transfer.remote,
                str(transfer.local),
                str(frame.get("message", "refused by the server")),
            )
        )

    async def file_frame(self, frame: dict[str, Any]) -> None:
        kind, channel = frame.get("type"), frame.get("channel")
        if kind in ("ok", "error") and frame.get("re") in self.asked:
            self._replied(frame)
            return
        if not isinstance(channel, int):
            return
        if kind in ("file_accepted", "file_done", "file_end") and not (
            channel in self.uploads or channel in self.downloads
        ):
            self._unknown(channel, f"{kind} frame")
            return
        if kind == "file_accepted":
            self._accepted(channel, int(frame["size"]))
        elif kind == "file_done" and channel in self.uploads:
            upload = self.uploads.pop(channel)
            self.report(_sent(upload, str(frame["sha256"])))
        elif kind == "file_end" and channel in self.downloads:
            download = self.downloads.pop(channel)
            if download.incoming is not None:
                outcome = await asyncio.to_thread(
                    transfers.finish_download, download, str(frame["sha256"])
                )
                self.report(outcome)
        elif kind == "file_failed":
            self._failed(channel, str(frame["reason"]))

    def _unknown(self, channel: int, what: str) -> None:
        """Say (once per channel) that a transfer nobody asked for was dropped.

        (``--json`` prints every frame anyway; scripts may ask for
        transfers with JSON commands this client does not follow.)
        """
        if channel in self.dropped or self.console.as_json:
            return
        self.dropped.add(channel)
        self.console.say(
            f"! dropped a {what} for channel {channel}: no /send or /fetch of"
            " yours is waiting for it"
        )

    def _accepted(self, channel: int, size: int) -> None:
        upload = self.uploads.get(channel)
        if upload is not None:
            upload.task = asyncio.get_running_loop().create_task(
                self._stream(channel, upload)
            )
        download = self.downloads.get(channel)
        if download is not None:
            try:
                download.incoming = IncomingFile(download.local, download.remote, size)
            except OSError as exc:
                del self.downloads[channel]
                reason = f"cannot write {download.local}: {exc.strerror}"
                self.report(
                    transfers.failed(
                        "fetch", download.remote, str(download.local), reason
                    )
                )

    async def _stream(self, channel: int, upload: Upload) -> None:
        try:
            await transfers.stream(self.link, channel, upload)
        except (LinkFailed, OSError) as exc:
            if self.uploads.pop(channel, None) is not None:
                reason = f"sending stopped: {exc}"
                self.report(
                    transfers.failed("send", upload.remote, str(upload.local), reason)
                )

    def _failed(self, channel: int, reason: str) -> None:
        outcome: dict[str, Any] | None = None
        upload = self.uploads.pop(channel, None)
        if upload is not None:
            if upload.task is not None:
                upload.task.cancel()
            local = str(upload.local)
            outcome = transfers.failed("send", upload.remote, local, reason)
        download = self.downloads.pop(channel, None)
        if download is not None:
            if download.incoming is not None:
                download.incoming.abort()
            local = str(download.local)
            outcome = transfers.failed("fetch", download.remote, local, reason)
        # Interactively the file_failed frame itself was shown.
        if outcome is not None and self.console.as_json:
            self.report(outcome)

    def file_data(self, channel: int, data: memoryview) -> bool:
        """Take a piece of a fetched file; ``False`` if ``channel`` is no fetch."""
        download = self.downloads.get(channel)
        if download is None:
            return False
        if download.incoming is not None:
            try:
                download.incoming.write(data)
            except TransferRefused as exc:
                del self.downloads[channel]
                local = str(download.local)
                self.report(
                    transfers.failed("fetch", download.remote, local, exc.reason)
                )
        return True


def _sent(upload: Upload, sha256: str) -> dict[str, Any]:
    return {
        "type": "transfer_done",
        "direction": "send",
        "local": str(upload.local),
        "remote": upload.remote,
        "size": upload.size,
        "sha256": sha256,
        "match": sha256 == upload.sha256,
    }
