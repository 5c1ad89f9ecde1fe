"""What the customer's client does when a representative asks for a shell or a file.

The agent is given the two ways to send (JSON and binary frames) and is
fed every frame that concerns it. It asks the customer before opening a
shell or moving a file (unless ``shell`` or ``files`` was allowed in
advance; with no way to ask, it refuses), runs the shell in a pty, and
keeps every file inside the folder the customer allowed
(:mod:`supportbox.transfer.paths`). Requests that may wait for an answer
run as tasks, so frames after them are not held up.
:meth:`CustomerAgent.revoke` closes every shell at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any, ClassVar

from supportbox.errors import TransferRefused
from supportbox.shell.terminal import PtyShell, default_shell
from supportbox.streams import frames
from supportbox.transfer import paths
from supportbox.transfer.files import IncomingFile, read_chunks

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
SendBytes = Callable[[bytes], Awaitable[None]]
Ask = Callable[[str], Awaitable[bool]]

SHELL = "shell"
FILES = "files"

_NOT_ALLOWED = {
    SHELL: "the customer does not allow command shells",
    FILES: "the customer does not allow file transfer",
}

#: Requests that may wait for the customer's answer.
_MAY_ASK = frozenset({"shell_request", "file_incoming", "file_request"})


class CustomerAgent:
    def __init__(
        self,
        send_json: SendJson,
        send_bytes: SendBytes,
        *,
        allow: Collection[str] = (),
        files_dir: Path | None = None,
        max_size: int = 2 * 1024**3,
        ask: Ask | None = None,
        shell_argv: list[str] | None = None,
    ) -> None:
        self._send_json = send_json
        self._send_bytes = send_bytes
        self.allow = set(allow)
        self.files_dir = files_dir
        self.max_size = max_size
        self._ask = ask
        self._argv = shell_argv
        self.shells: dict[int, PtyShell] = {}
        self._incoming: dict[int, IncomingFile] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle(self, frame: dict[str, Any]) -> bool:
        """Act on ``frame`` if it is ours; ``False`` for anything else."""
        kind = str(frame.get("type"))
        handler = self._handlers.get(kind)
        if handler is None:
            return False
        if kind in _MAY_ASK:
            self._spawn(handler(self, frame))
        else:
            await handler(self, frame)
        return True

    @classmethod
    def handles(cls, kind: str) -> bool:
        return kind in cls._handlers

    async def data(self, frame: bytes) -> None:
        """A binary frame: input for a shell or a piece of an incoming file."""
        number, _chunk, data = frames.decode(frame)
        shell = self.shells.get(number)
        if shell is not None:
            shell.write(data)
            return
        incoming = self._incoming.get(number)
        if incoming is not None:
            try:
                # Written in line: a megabyte goes to the page cache and
                # its hash in about a millisecond, and a worker thread's
                # hand-over cost more than it overlapped (docs/performance.md).
                incoming.write(data)
            except TransferRefused as exc:
                self._incoming.pop(number, None)
                await self._refuse(number, exc.reason)
            except OSError as exc:  # a full disk, say
                self._incoming.pop(number, None)
                incoming.abort()
                await self._refuse(number, f"the file cannot be written: {exc}")

    # shells

    async def _refusal(self, what: str, question: str) -> str | None:
        """Why ``what`` is refused, or ``None`` when it is allowed."""
        if what in self.allow:
            return None
        if self._ask is None:
            return _NOT_ALLOWED[what]
        return None if await self._ask(question) else "refused by the customer"

    async def _shell_request(self, frame: dict[str, Any]) -> None:
        number = int(frame["channel"])
        question = "The representative asks to open a command shell. Allow it?"
        reason = await self._refusal(SHELL, question)
        if reason is not None:
            await self._send_json(
                {"type": "shell_close", "channel": number, "reason": reason}
            )
            return
        shell = await PtyShell.start(
            self._argv,
            width=int(frame.get("width", 80)),
            height=int(frame.get("height", 24)),
            cwd=self.files_dir,
        )
        self.shells[number] = shell
        env = {"SHELL": (self._argv or [default_shell()])[0], "TERM": "xterm-256color"}
        await self._send_json({"type": "shell_accept", "channel": number, "env": env})
        self._spawn(self._pump(number, shell))

    async def _pump(self, number: int, shell: PtyShell) -> None:
        for chunk in itertools.count():
            data = await shell.read()
            if not data:
                break
            await self._send_bytes(frames.encode(number, chunk, data))
        if self.shells.pop(number, None) is not None:
            await shell.close()
            await self._send_json(
                {"type": "shell_close", "channel": number, "reason": "the shell exited"}
            )

    async def _shell_resize(self, frame: dict[str, Any]) -> None:
        shell = self.shells.get(int(frame["channel"]))
        if shell is not None:
            shell.resize(int(frame["width"]), int(frame["height"]))

    async def _shell_closed(self, frame: dict[str, Any]) -> None:
        shell = self.shells.pop(int(frame["channel"]), None)
        if shell is not None:
            await shell.close()

    async def revoke(self, reason: str = "revoked by the customer") -> int:
        """Close every shell now; returns how many were open."""
        shells, self.shells = self.shells, {}
        for number, shell in shells.items():
            await self._send_json(
                {"type": "shell_close", "channel": number, "reason": reason}
            )
            await shell.close()
        return len(shells)

    # files

    def _folder(self) -> Path:
        if self.files_dir is None or (FILES not in self.allow and not self._ask):
            raise TransferRefused(_NOT_ALLOWED[FILES], "")
        return self.files_dir

    async def _consent(self, question: str) -> None:
        reason = await self._refusal(FILES, question)
        if reason is not None:
            raise TransferRefused(reason, "")

    async def _refuse(self, number: int, reason: str) -> None:
        await self._send_json(
            {"type": "file_refuse", "channel": number, "reason": reason}
        )

    async def _file_incoming(self, frame: dict[str, Any]) -> None:
        number, path, size = (
            int(frame["channel"]),
            str(frame["path"]),
            int(frame["size"]),
        )
        question = f"The representative sends you {path} ({size} bytes). Accept it?"
        try:
            target = paths.upload_target(
                self._folder(),
                path,
                size,
                self.max_size,
                overwrite=bool(frame.get("overwrite")),
            )
            await self._consent(question)
            incoming = IncomingFile(
                target, path, size, overwrite=bool(frame.get("overwrite"))
            )
        except TransferRefused as exc:
            await self._refuse(number, exc.reason)
            return
        self._incoming[number] = incoming
        await self._send_json({"type": "file_accept", "channel": number})

    async def _file_end(self, frame: dict[str, Any]) -> None:
        number = int(frame["channel"])
        incoming = self._incoming.pop(number, None)
        if incoming is None:
            return
        try:
            await asyncio.to_thread(incoming.finish, str(frame["sha256"]))
        except TransferRefused as exc:
            await self._refuse(number, exc.reason)
            return
        await self._send_json({"type": "file_done", "channel": number})

    async def _file_failed(self, frame: dict[str, Any]) -> None:
        incoming = self._incoming.pop(int(frame["channel"]), None)
        if incoming is not None:
            incoming.abort()

    async def _file_request(self, frame: dict[str, Any]) -> None:
        number, path = int(frame["channel"]), str(frame["path"])
        try:
            source, size = paths.download_source(self._folder(), path, self.max_size)
            await self._consent(
                f"The representative asks for your file {path}. Send it?"
            )
        except TransferRefused as exc:
            await self._refuse(number, exc.reason)
            return
        await self._send_json({"type": "file_accept", "channel": number, "size": size})
        self._spawn(self._send_file(number, source))

    async def _send_file(self, number: int, source: Path) -> None:
        digest = hashlib.sha256()
        chunks = read_chunks(source, frames.MAX_CHUNK)
        for index in itertools.count():
            block = await asyncio.to_thread(next, chunks, b"")
            if not block:
                break
            digest.update(block)
            await self._send_bytes(frames.encode(number, index, block))
        await self._send_json(
            {"type": "file_end", "channel": number, "sha256": digest.hexdigest()}
        )

    # housekeeping

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop every shell and transfer (the connection is going away)."""
        # Taken out first, so that their output pumps, seeing the end, do
        # not report them closed to a server that has closed them already.
        shells, self.shells = self.shells, {}
        for shell in shells.values():
            await shell.close()
        for incoming in self._incoming.values():
            incoming.abort()
        self._incoming.clear()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    _handlers: ClassVar[
        dict[str, Callable[[CustomerAgent, dict[str, Any]], Awaitable[None]]]
    ] = {
        "shell_request": _shell_request,
        "shell_resize": _shell_resize,
        "shell_closed": _shell_closed,
        "file_incoming": _file_incoming,
        "file_end": _file_end,
        "file_failed": _file_failed,
        "file_request": _file_request,
    }
