"""The seam through which shared screens are recorded.

The relay keeps a :class:`~supportbox.screen.codec.Framebuffer` per
shared screen. When a recorder factory is installed
(``relay_of(runtime).screens.recorder_factory = ...``, done at start-up by
the recording feature), the relay opens one recorder per shared screen
when the customer accepts, hands it the whole picture after every
completed update, and closes it (in a worker thread) when sharing stops.

A factory that raises :class:`~supportbox.errors.SessionStateError`
refuses the sharing (a required recording that cannot be written); any
other error is logged and the screen is shared unrecorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from supportbox.runtime import Runtime


@dataclass(frozen=True)
class ScreenSource:
    """What a recorder is told about the screen it records."""

    runtime: Runtime
    lsid: str
    channel: int
    #: The representative who asked to see the screen.
    rep_gsnumber: int
    width: int
    height: int


class ScreenRecorder(Protocol):
    def frame(self, fb_rgb: bytes, width: int, height: int, at: float, /) -> None:
        """The whole picture after an update; ``at`` is seconds since the start.

        Called on the event loop: it must queue, not encode, the frame.
        """

    def close(self, at: float | None = None, /) -> tuple[str, str, int]:
        """Finish the file; ``(path, sha256, size)``. Run in a worker thread.

        ``at`` is when sharing stopped (seconds since the start), so the
        last picture lasts until then.
        """


#: Opens the recorder of a screen that starts to be shared; ``None``
#: leaves that screen unrecorded.
RecorderFactory = Callable[[ScreenSource], Awaitable[ScreenRecorder | None]]
