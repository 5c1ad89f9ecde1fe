"""Opening the recording of a shared screen, and feeding it parts.

The stream relay (a support session's "screen" channel, through
:func:`recorder_for`) and presentations (through
:func:`start_screen_feed`) call :func:`open_screen_recorder` when a
screen starts to be shared. It creates the ``recording`` row and file;
the recorder stores the file's hash and size in that row when it
closes. With the setting ``screen_recording`` off it returns ``None``.
When the file or the encoder cannot be opened it returns ``None`` too,
unless the setting ``require_screen_recording`` is on: then it raises
:class:`RecordingRequired`, and the caller must refuse to share.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import av

from supportbox.errors import RecordingRequired, SupportboxError
from supportbox.logs import log, session_log
from supportbox.recording import store
from supportbox.recording.feed import ScreenFeed
from supportbox.recording.screen import Closed, ScreenRecorder
from supportbox.runtime import Runtime

EXTENSION = "mp4"


def open_screen_recorder(
    runtime: Runtime, lsid: str, kind: str = store.SCREEN
) -> ScreenRecorder | None:
    """A recorder for the next ``kind`` recording of ``lsid``; blocks briefly.

        ``kind`` is ``screen`` (support sessions) or ``presentation``. Call it
        from a thread (:func:`start_screen_recording` does). The recorder's
        ``close()`` also blocks; it removes a recording that got no frame, and
    one whose encoding failed (logged at ERROR with the session's lsid).
    """
    settings = runtime.settings
    if not settings.screen_recording:
        return None
    try:
        with runtime.write_db() as db, db.begin():
            new = store.create(db, settings, lsid, kind, EXTENSION)
        recorder = _recorder(runtime, new, lsid, kind)
    except (OSError, RuntimeError, av.FFmpegError, SupportboxError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        if settings.require_screen_recording:
            log.error("session %s: screen recording impossible: %s", lsid, reason)
            raise RecordingRequired(
                f"the screen recording cannot be written ({reason}) "
                "and recording is required"
            ) from None
        log.warning("session %s: screen not recorded: %s", lsid, reason)
        return None
    session_log.info("session %s %s %s recording", lsid, kind, new.instance)
    return recorder


async def start_screen_recording(
    runtime: Runtime, lsid: str, kind: str = store.SCREEN
) -> ScreenRecorder | None:
    """:func:`open_screen_recorder` off the event loop."""
    return await asyncio.to_thread(open_screen_recorder, runtime, lsid, kind)


async def start_screen_feed(
    runtime: Runtime, lsid: str, kind: str = store.SCREEN
) -> ScreenFeed | None:
    """A feed of screen parts into a new recording, or ``None`` (see above).

    Presentations use it (the relay uses :func:`recorder_for` instead):
    call it when the screen starts (refuse on :class:`RecordingRequired`),
    hand each screen update part to ``feed.part()``, and
    ``await feed.aclose()`` when it ends.
    """
    recorder = await start_screen_recording(runtime, lsid, kind)
    return None if recorder is None else ScreenFeed(recorder)


class SharedScreen(Protocol):
    """What the relay tells a recorder factory about a shared screen."""

    @property
    def runtime(self) -> Runtime: ...

    @property
    def lsid(self) -> str: ...


async def recorder_for(screen: SharedScreen) -> ScreenRecorder | None:
    """The relay's recorder factory for support sessions' screens.

    Raises :class:`RecordingRequired` (a ``SessionStateError``: the relay
    refuses the sharing); ``None`` when the screen goes unrecorded.
    """
    return await start_screen_recording(screen.runtime, screen.lsid, store.SCREEN)


def _recorder(
    runtime: Runtime, new: store.NewRecording, lsid: str, kind: str
) -> ScreenRecorder:
    made: list[ScreenRecorder] = []

    def closed(done: Closed) -> None:
        error = made[0].error if made else None
        if error is not None:
            log.error(
                "session %s: %s recording %s failed and is removed: %s",
                lsid,
                kind,
                new.instance,
                error,
            )
        with runtime.write_db() as db, db.begin():
            if done.size == 0 or error is not None:
                store.discard(db, runtime.settings, new.id)
            else:
                store.seal(db, new.id, done.sha256, done.size)

    try:
        made.append(ScreenRecorder(new.path, on_close=closed))
        return made[0]
    except (OSError, RuntimeError, av.FFmpegError):
        with runtime.write_db() as db, db.begin():
            store.discard(db, runtime.settings, new.id)
        raise
