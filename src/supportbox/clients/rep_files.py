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
        reply = await self.link.request("file_send", lsid=lsid, path=remote, size=size)
        if reply.get("type") == "ok":
            self.uploads[int(reply["channel"])] = Upload(path, remote, size)
        else:
            self.report(transfers.failed("send", remote, local, reply["message"]))

    async def fetch_file(self, remote: str, local: str) -> None:
        lsid = self.session()
        if lsid is None:
            return
        try:
            target = transfers.download_target(remote, local)
        except TransferRefused as exc:
            self.report(transfers.failed("fetch", remote, local, exc.reason))
            return
        reply = await self.link.request("file_fetch", lsid=lsid, path=remote)
        if reply.get("type") == "ok":
            self.downloads[int(reply["channel"])] = Download(remote, target)
        else:
            self.report(transfers.failed("fetch", remote, local, reply["message"]))

    async def file_frame(self, frame: dict[str, Any]) -> None:
        kind, channel = frame.get("type"), frame.get("channel")
        if not isinstance(channel, int):
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

    def file_data(self, channel: int, data: bytes) -> bool:
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
