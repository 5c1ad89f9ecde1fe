"""A client that says ``bye`` and goes at once leaves no traceback in the log."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect

from livekit import open_session
from serverkit import LiveServer


class Records(logging.Handler):
    """Every log record of the process, and an event when a connection closed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.closed = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if "connection" in record.getMessage() and "closed" in record.getMessage():
            self.closed.set()


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("supportbox.session").setLevel(logging.INFO)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_a_customer_leaving_and_going_at_once_logs_no_traceback(
    server: LiveServer, records: Records
) -> None:
    opened = open_session(server)

    async def scenario() -> None:
        async with connect(server.ws_url + "/live") as ws:
            hello = {
                "type": "hello",
                "v": 1,
                "role": "customer",
                "lsid": opened.lsid,
                "token": opened.join_token,
            }
            await ws.send(json.dumps(hello))
            assert json.loads(await ws.recv())["type"] == "welcome"
            # What `supportbox customer </dev/null` does: leave, bye, and
            # gone before the server has answered.
            await ws.send(json.dumps({"type": "leave", "id": "c1"}))
            await ws.send(json.dumps({"type": "bye"}))
            ws.transport.abort()
        await asyncio.to_thread(records.closed.wait, 20)

    asyncio.run(scenario())

    assert records.closed.is_set()
    tracebacks = [r.getMessage() for r in records.records if r.exc_info]
    assert tracebacks == []
