"""The rep's ``/fetch`` follows its channel in the order frames arrive.

The server's reply naming the channel and the customer's first answer on
it can come in one read from the socket, before the command that asked
resumes. These drive the real client's frame path with such a read.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from supportbox.clients.console import Console
from supportbox.clients.rep import Rep
from supportbox.streams import frames


def rep_client(out: io.StringIO) -> Rep:
    rep = Rep(
        "http://127.0.0.1:9",
        "alice",
        "pw",
        Console(False, out),
        lines=asyncio.Queue(),
        answers=None,
    )
    rep.sessions, rep.current = ["s1"], "s1"
    return rep


async def arrive(rep: Rep, frame: dict[str, Any]) -> None:
    await rep.link._arrived(json.dumps(frame))


async def sent(rep: Rep) -> str:
    """The id of the command the rep has just sent."""
    while not rep.link.outbox:
        await asyncio.sleep(0)
    return next(iter(rep.link.outbox))


def test_a_fetch_answered_at_once_is_written(tmp_path: Path) -> None:
    data = b"log line\n" * 100

    async def scenario() -> str:
        out = io.StringIO()
        rep = rep_client(out)
        asked = asyncio.create_task(rep.fetch_file("app.log", str(tmp_path)))
        ident = await sent(rep)
        # One read: the reply, the acceptance, the data and the end.
        await arrive(rep, {"type": "ok", "re": ident, "channel": 7})
        await arrive(rep, {"type": "file_accepted", "channel": 7, "size": len(data)})
        await rep.link._arrived(frames.encode(7, 0, data))
        sha = hashlib.sha256(data).hexdigest()
        await arrive(rep, {"type": "file_end", "channel": 7, "sha256": sha})
        await asyncio.wait_for(asked, 10)
        return out.getvalue()

    printed = asyncio.run(scenario())

    assert (tmp_path / "app.log").read_bytes() == data
    assert "app.log" in printed and "!" not in printed


def test_a_file_channel_nobody_asked_for_is_said_not_dropped_silently() -> None:
    async def scenario() -> str:
        out = io.StringIO()
        rep = rep_client(out)
        await arrive(rep, {"type": "file_accepted", "channel": 9, "size": 3})
        await arrive(rep, {"type": "file_end", "channel": 9, "sha256": "00"})
        return out.getvalue()

    printed = asyncio.run(scenario())

    assert printed.count("! dropped a file_accepted frame for channel 9") == 1
    assert "file_end" not in printed  # once per channel
