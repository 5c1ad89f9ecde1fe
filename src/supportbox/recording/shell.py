"""The live recording of one command shell, from its first byte to its row."""

from __future__ import annotations

import asyncio
import time

from supportbox.logs import session_log
from supportbox.recording import store
from supportbox.recording.asciicast import Header
from supportbox.recording.writer import CastWriter, Summary
from supportbox.runtime import Runtime


class ShellRecorder:
    """Records a shell's output, input and resizes to its asciicast file.

    Create it with :meth:`start`; the recording methods return at once
    (see :class:`CastWriter`). :meth:`close` waits for the file, then stores
    its hash and size in the ``recording`` row.
    """

    def __init__(
        self, runtime: Runtime, lsid: str, new: store.NewRecording, writer: CastWriter
    ) -> None:
        self.runtime = runtime
        self.lsid = lsid
        self.id = new.id
        self.instance = new.instance
        self.path = new.path
        self._writer = writer
        self._closed: Summary | None = None

    @classmethod
    async def start(
        cls,
        runtime: Runtime,
        lsid: str,
        width: int,
        height: int,
        env: dict[str, str] | None = None,
    ) -> ShellRecorder:
        def create() -> store.NewRecording:
            with runtime.write_db() as db, db.begin():
                return store.create_shell(db, runtime.settings, lsid)

        new = await asyncio.to_thread(create)
        header = Header(
            width=width,
            height=height,
            timestamp=int(time.time()),
            title=f"session {lsid} shell {new.instance}",
            env=env or {},
        )
        sink = await asyncio.to_thread(new.path.open, "wb")
        session_log.info("session %s shell %s recording", lsid, new.instance)
        return cls(runtime, lsid, new, CastWriter(sink, header))

    def output(self, data: bytes) -> None:
        self._writer.output(data)

    def input(self, data: bytes) -> None:
        self._writer.input(data)

    def resize(self, width: int, height: int) -> None:
        self._writer.resize(width, height)

    async def close(self) -> Summary:
        """Finish the file and store its hash; safe to call more than once."""
        if self._closed is not None:
            return self._closed
        summary = await asyncio.to_thread(self._writer.close)
        self._closed = summary

        def save() -> None:
            with self.runtime.write_db() as db, db.begin():
                store.close(db, self.id, summary)

        await asyncio.to_thread(save)
        session_log.info(
            "session %s shell %s recording closed: %s bytes",
            self.lsid,
            self.instance,
            summary.size,
        )
        return summary
