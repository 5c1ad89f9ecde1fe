"""The terminal side of the clients: input lines in, output lines out.

In ``--json`` mode every frame is printed as one JSON line and input lines
that are JSON objects are protocol messages; otherwise frames are shown as
readable lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from typing import Any, TextIO

from supportbox.core import events as ev


def read_stdin(queue: asyncio.Queue[str | None]) -> None:
    """Put the lines of standard input on ``queue`` as they arrive; ``None`` at its end.

    A daemon thread reads, so this works for terminals, pipes and files
    alike and never keeps the process alive.
    """
    loop = asyncio.get_running_loop()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="stdin", daemon=True).start()


class Console:
    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout

    def say(self, text: str) -> None:
        """A line for a person (nothing in ``--json`` mode)."""
        if not self.as_json:
            print(text, file=self.out, flush=True)

    def frame(self, frame: dict[str, Any]) -> None:
        if self.as_json:
            print(json.dumps(frame, ensure_ascii=False), file=self.out, flush=True)
            return
        text = describe(frame)
        if text:
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
        return f"! {frame.get('message')} ({frame.get('code')})"
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
    if kind == ev.MEMBER_STATE_CHANGED:
        return f"{prefix} {who} {data.get('state', '')}"
    return ""


def ask(question: dict[str, Any]) -> str:
    """The prompt line of one survey question."""
    options = question.get("options") or []
    choices = f" [{'/'.join(str(o) for o in options)}]" if options else ""
    return f"? {question['label']}{choices}: "
