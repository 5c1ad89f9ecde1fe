"""The real ``supportbox customer`` and ``supportbox rep`` as subprocesses."""

from __future__ import annotations

import asyncio
import json
import os
import sys
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
