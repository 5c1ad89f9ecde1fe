"""The terminal side of the clients: input lines in, output lines out.

In ``--json`` mode every frame is printed as one JSON line and input lines
that are JSON objects are protocol messages; otherwise frames are shown as
readable lines.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from supportbox.core import events as ev


class Keyboard:
    """Standard input: lines on a queue, or raw bytes while a terminal is attached.

    A daemon thread reads the bytes, so this works for terminals, pipes and
    files alike and never keeps the process alive. While :attr:`raw` is set
    every byte goes to it as it arrives (a remote shell); otherwise whole
    lines go on the queue, and ``None`` at the end of input.
    """

    def __init__(self, queue: asyncio.Queue[str | None]) -> None:
        self.queue = queue
        self.raw: Callable[[bytes], None] | None = None
        self._partial = bytearray()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        fd = sys.stdin.fileno()

        def read() -> None:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                loop.call_soon_threadsafe(self.feed, data)
                if not data:
                    return

        threading.Thread(target=read, name="stdin", daemon=True).start()

    def feed(self, data: bytes) -> None:
        if not data:
            if self._partial:
                self._line(bytes(self._partial))
                self._partial.clear()
            self.queue.put_nowait(None)
            return
        if self.raw is not None and not self._partial:
            self.raw(data)
            return
        self._partial += data
        while (end := self._partial.find(b"\n")) >= 0:
            self._line(bytes(self._partial[:end]))
            del self._partial[: end + 1]

    def _line(self, raw: bytes) -> None:
        self.queue.put_nowait(raw.decode(errors="replace").rstrip("\r"))


class Console:
    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        #: Lines kept back while a remote shell has the terminal.
        self.held: list[str] | None = None

    def say(self, text: str) -> None:
        """A line for a person (nothing in ``--json`` mode)."""
        if not self.as_json:
            self._print(text)

    def frame(self, frame: dict[str, Any]) -> None:
        if self.as_json:
            self._print(json.dumps(frame, ensure_ascii=False))
            return
        text = describe(frame)
        if text:
            self._print(text)

    def hold(self) -> None:
        """Keep lines back (a remote shell is drawing on the terminal)."""
        self.held = []

    def release(self) -> None:
        """Print what was kept back, and print lines at once again."""
        held, self.held = self.held or [], None
        for text in held:
            self._print(text)

    def _print(self, text: str) -> None:
        if self.held is not None:
            self.held.append(text)
            return
        print(text, file=self.out, flush=True)


def parse_json_line(line: str) -> dict[str, Any] | None:
    """A protocol message typed as JSON, or ``None`` for plain text."""
    if not line.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "type" in value else None


def describe(frame: dict[str, Any]) -> str:
    """A frame as one readable line ('' for frames not worth showing)."""
    kind = frame.get("type")
    if kind == "event":
        return _describe_event(frame["lsid"], frame["event"])
    if kind == "error":
        # A sentence for a person; the code is in the --json output.
        return f"! {frame.get('message')}"
    if kind == "offer":
        by = f" from {frame['by']}" if frame.get("by") else ""
        return f"* {frame['reason']} offer{by}: session {frame['lsid']}"
    if kind == "queues":
        waiting = frame.get("waiting", [])
        lines = [f"* {len(waiting)} waiting"]
        for w in waiting:
            lines.append(
                f"  {w['lsid']}  {w['queue_name']}  {w['customer']}: {w['issue']}"
            )
        return "\n".join(lines)
    if kind == "link":
        return f"* connection {frame['state']}"
    if kind == "shell_request":
        return "* the representative asks for a command shell"
    if kind == "file_incoming":
        return f"* the representative sends {frame['path']} ({frame['size']} bytes)"
    if kind == "file_request":
        return f"* the representative asks for your file {frame['path']}"
    if kind == "shell_closed":
        return f"* shell {frame['channel']} closed: {frame.get('reason', '')}"
    if kind == "file_failed":
        return f"! transfer of {frame['path']} failed: {frame['reason']}"
    if kind == "left":
        return f"* you left session {frame['lsid']}"
    return ""


def _describe_event(lsid: str, event: dict[str, Any]) -> str:
    kind = event["event_type"]
    who = (event.get("performed_by") or {}).get("name", "")
    stamp = time.strftime("%H:%M:%S", time.localtime(event["timestamp"]))
    prefix = f"[{stamp} {lsid[:6]}]"
    if kind == ev.CHAT_MESSAGE:
        return f"{prefix} {who}: {event.get('body', '')}"
    if kind == ev.NOTE_ADDED:
        return f"{prefix} note by {who}: {event.get('body', '')}"
    target = (event.get("destination") or {}).get("name", "")
    data = event.get("data") or {}
    if kind == ev.MEMBER_ADDED:
        return f"{prefix} {target} joined"
    if kind == ev.MEMBER_DEPARTED:
        return f"{prefix} {target} left"
    if kind == ev.EXTERNAL_KEY:
        return f"{prefix} external key is now {data.get('external_key', '')}"
    if kind == ev.TO_QUEUE:
        return f"{prefix} waiting in {data.get('owner', '')}"
    if kind == ev.SESSION_END:
        return f"{prefix} the session ended"
    if kind == ev.SHELL_STARTED:
        return f"{prefix} {who} opened command shell {_value(data, 'instance')}"
    if kind in _FILE_EVENTS:
        size, reason = event.get("filesize", 0), _value(data, "reason")
        why = f": {reason}" if reason else ""
        return (
            f"{prefix} {_FILE_EVENTS[kind]} {event.get('filename')} ({size} bytes){why}"
        )
    if kind == ev.MEMBER_STATE_CHANGED:
        return f"{prefix} {who} {data.get('state', '')}"
    return ""


_FILE_EVENTS = {
    ev.FILE_UPLOAD: "file sent to the customer:",
    ev.FILE_DOWNLOAD: "file fetched from the customer:",
    ev.FILE_UPLOAD_FAILED: "file NOT sent to the customer:",
    ev.FILE_DOWNLOAD_FAILED: "file NOT fetched from the customer:",
}


def _value(data: Any, name: str) -> str:
    """A data value of an event, whichever form ``data`` takes."""
    if isinstance(data, dict):
        return str(data.get(name, ""))
    for pair in data or []:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] == name:
            return str(pair[1])
    return ""


def ask(question: dict[str, Any]) -> str:
    """The prompt line of one survey question."""
    options = question.get("options") or []
    choices = f" [{'/'.join(str(o) for o in options)}]" if options else ""
    return f"? {question['label']}{choices}: "
