"""The customer's side of shells, with no server: what it tells the server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from supportbox.remote.agent import SHELL, CustomerAgent


def test_closing_the_agent_does_not_report_its_shells_closed_again(
    tmp_path: Path,
) -> None:
    """When the connection goes, the server has closed the shells already:
    a ``shell_close`` then would only earn a "no channel" error."""

    async def scenario() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def send_json(frame: dict[str, Any]) -> None:
            sent.append(frame)

        async def send_bytes(_frame: bytes) -> None:
            pass

        agent = CustomerAgent(
            send_json,
            send_bytes,
            allow={SHELL},
            files_dir=tmp_path,
            shell_argv=["/bin/sh"],
        )
        await agent.handle({"type": "shell_request", "channel": 6})
        async with asyncio.timeout(10):
            while not sent:  # the request is answered in its own task
                await asyncio.sleep(0.01)
        assert [f["type"] for f in sent] == ["shell_accept"]
        await agent.close()
        await asyncio.sleep(0.2)  # the shell's output pump has seen the end
        return sent

    sent = asyncio.run(scenario())
    assert [f["type"] for f in sent] == ["shell_accept"]
