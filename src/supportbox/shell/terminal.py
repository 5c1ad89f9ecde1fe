"""The customer's shell in a pseudo-terminal, driven from asyncio.

The shell (``$SHELL``, else ``/bin/sh``) runs in a new session with the
pty as its controlling terminal, so Ctrl-C sent as the byte ``\\x03``
interrupts its foreground job as it would at a real terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

READ_SIZE = 64 * 1024

#: Output joined into one read at most (see :meth:`PtyShell.read`).
COALESCE = 256 * 1024

#: Chunks of output held before reading pauses (back-pressure).
PAUSE_AT = 64


def default_shell() -> str:
    return os.environ.get("SHELL") or "/bin/sh"


# Run in a fresh interpreter before the shell: make the pty (its stdin) the
# controlling terminal of the new session, then become the shell. A
# preexec_fn would do the same in the forked child, but running Python code
# between fork and exec can deadlock in a process with threads.
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios;"
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


def set_size(fd: int, width: int, height: int) -> None:
    """Tell the terminal at ``fd`` its size in columns and rows."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


class PtyShell:
    """A running shell; read its output, write its input, resize, close."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        self.process = process
        self._master = master
        self._loop = asyncio.get_running_loop()
        self._output: asyncio.Queue[bytes] = asyncio.Queue()
        self._pending = bytearray()
        self._eof = False
        self._paused = False
        self._loop.add_reader(master, self._readable)

    @classmethod
    async def start(
        cls,
        argv: Sequence[str] | None = None,
        *,
        width: int = 80,
        height: int = 24,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> PtyShell:
        master, slave = pty.openpty()
        try:
            set_size(slave, width, height)
            environment = dict(os.environ if env is None else env)
            environment.setdefault("TERM", "xterm-256color")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _TAKE_TERMINAL,
                *(argv or [default_shell()]),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=environment,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        return cls(process, master)

    # output

    def _readable(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:
            # Linux answers EIO once the last process holding the pty exits.
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data:
            self._finish_output()
            return
        self._output.put_nowait(data)
        if self._output.qsize() >= PAUSE_AT:
            # Back-pressure: stop reading until the consumer catches up.
            self._loop.remove_reader(self._master)
            self._paused = True

    def _finish_output(self) -> None:
        self._loop.remove_reader(self._master)
        if not self._eof:
            self._eof = True
            self._output.put_nowait(b"")

    async def read(self, limit: int = COALESCE) -> bytes:
        """The next output; ``b""`` once the shell's terminal has closed.

        Output already waiting is joined, up to about ``limit`` bytes: a
        fast command's output goes in fewer, larger frames (the pty gives
        about 4 KiB at a time), and nothing waits to be joined.
        """
        if self._eof and self._output.empty():
            return b""
        first = await self._output.get()
        parts, size = [first], len(first)
        while first and size < limit and not self._output.empty():
            more = self._output.get_nowait()
            if not more:
                break  # the end: the next read answers b"" (self._eof is set)
            parts.append(more)
            size += len(more)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if self._paused and self._output.qsize() < PAUSE_AT // 2:
            self._paused = False
            if self._master >= 0:
                self._loop.add_reader(self._master, self._readable)
        return data

    # input and size

    def write(self, data: bytes | memoryview) -> None:
        """Queue ``data`` for the shell's input; never blocks."""
        if self._master < 0:
            return
        if self._pending:
            self._pending += data
            return
        try:
            written = os.write(self._master, data)
        except BlockingIOError:
            written = 0
        if written < len(data):
            self._pending += data[written:]
            self._loop.add_writer(self._master, self._writable)

    def _writable(self) -> None:
        try:
            written = os.write(self._master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            self._pending.clear()
            written = 0
        del self._pending[:written]
        if not self._pending:
            self._loop.remove_writer(self._master)

    def resize(self, width: int, height: int) -> None:
        if self._master >= 0:
            set_size(self._master, width, height)

    # the end

    async def wait(self) -> int:
        return await self.process.wait()

    async def close(self, grace: float = 2.0) -> int:
        """Hang up the shell, kill it if it lingers; returns its exit status."""
        if self.process.returncode is None:
            self._signal(signal.SIGHUP)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self.process.wait()
        self._release()
        return self.process.returncode if self.process.returncode is not None else -1

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _release(self) -> None:
        if self._master < 0:
            return
        self._loop.remove_reader(self._master)
        self._loop.remove_writer(self._master)
        os.close(self._master)
        self._master = -1
        if not self._eof:
            self._eof = True
            self._output.put_nowait(b"")
