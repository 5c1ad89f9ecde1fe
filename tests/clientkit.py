"""The real ``supportbox customer`` and ``supportbox rep`` as subprocesses."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import Callable
from typing import Any

PASSWORD = "demo-rep-pass"

Match = Callable[[dict[str, Any]], bool]


class Client:
    """A client in ``--json`` mode: JSON lines in, JSON lines out."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.lines: list[dict[str, Any]] = []
        self._seen = 0

    @classmethod
    async def start(cls, name: str, *args: str) -> Client:
        env = dict(os.environ, SUPPORTBOX_PASSWORD=PASSWORD)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "supportbox",
            *args,
            "--json",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(process, name)

    async def send(self, kind: str, **fields: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"type": kind, **fields}).encode() + b"\n")
        await self.process.stdin.drain()

    async def say(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, match: Match, timeout: float = 60) -> dict[str, Any]:
        """The next line (after those already matched) that ``match`` accepts."""
        for index in range(self._seen, len(self.lines)):
            if match(self.lines[index]):
                self._seen = index + 1
                return self.lines[index]
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not raw:
                stderr = await self._stderr()
                raise AssertionError(f"{self.name} exited: {stderr}")
            self.lines.append(json.loads(raw))
            if match(self.lines[-1]):
                self._seen = len(self.lines)
                return self.lines[-1]

    async def _stderr(self) -> str:
        assert self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")

    async def finish(self, timeout: float = 60) -> int:
        """Wait for the process to exit by itself; its exit code."""
        assert self.process.stdout is not None
        rest = await asyncio.wait_for(self.process.stdout.read(), timeout)
        self.lines.extend(json.loads(line) for line in rest.splitlines() if line)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [
            line["event"]
            for line in self.lines
            if line.get("type") == "event" and line["event"]["event_type"] == event_type
        ]


def of_type(kind: str, **fields: Any) -> Match:
    return lambda line: (
        line.get("type") == kind and all(line.get(k) == v for k, v in fields.items())
    )


def event(event_type: str, **fields: Any) -> Match:
    def match(line: dict[str, Any]) -> bool:
        if line.get("type") != "event":
            return False
        found = line["event"]
        return found["event_type"] == event_type and all(
            found.get(k) == v for k, v in fields.items()
        )

    return match


class TerminalClient:
    """A client (not ``--json``) on a real pseudo-terminal, as a person runs it.

    Its standard input, output and error are the pty's slave end; the test
    types into the master end and reads everything the client printed.
    """

    def __init__(
        self, process: asyncio.subprocess.Process, master: int, slave: int
    ) -> None:
        self.process = process
        self.master = master
        self.slave = slave
        self.output = bytearray()
        self._seen = 0
        self._grew = asyncio.Event()
        asyncio.get_running_loop().add_reader(master, self._readable)

    @classmethod
    async def start(
        cls, *args: str, width: int = 100, height: int = 30
    ) -> TerminalClient:
        master, slave = pty.openpty()
        set_size(master, width, height)
        env = dict(os.environ, SUPPORTBOX_PASSWORD=PASSWORD)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "supportbox",
            *args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.set_blocking(master, False)
        return cls(process, master, slave)

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the client has exited
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.output += data
        self._grew.set()

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    async def expect(self, needle: bytes, timeout: float = 60) -> bytes:
        """Everything printed up to and including ``needle`` (after the last match)."""

        async def find() -> bytes:
            while (at := self.output.find(needle, self._seen)) < 0:
                if self.process.returncode is not None:
                    raise AssertionError(f"exited; printed {bytes(self.output)!r}")
                self._grew.clear()
                await self._grew.wait()
            start, self._seen = self._seen, at + len(needle)
            return bytes(self.output[start : self._seen])

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            tail = bytes(self.output[-2000:])
            raise AssertionError(f"{needle!r} not printed; last: {tail!r}") from None

    def resize(self, width: int, height: int) -> None:
        """What a terminal window does when it is resized."""
        set_size(self.master, width, height)
        os.kill(self.process.pid, signal.SIGWINCH)

    def attributes(self) -> list[Any]:
        return termios.tcgetattr(self.slave)

    async def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.master)
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        os.close(self.master)
        os.close(self.slave)


def set_size(fd: int, width: int, height: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
