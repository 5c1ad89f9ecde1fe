"""The customer's shell in a pseudo-terminal, alone."""

from __future__ import annotations

import asyncio

from supportbox.shell.terminal import PtyShell


async def read_until(shell: PtyShell, needle: bytes, timeout: float = 10) -> bytes:
    seen = b""

    async def collect() -> bytes:
        nonlocal seen
        while needle not in seen:
            chunk = await shell.read()
            if not chunk:
                break
            seen += chunk
        return seen

    return await asyncio.wait_for(collect(), timeout)


def test_a_command_runs_and_its_output_is_read() -> None:
    async def scenario() -> tuple[bytes, int]:
        shell = await PtyShell.start(["/bin/sh", "-c", "echo hello"])
        output = await read_until(shell, b"hello")
        return output, await shell.wait()

    output, status = asyncio.run(scenario())

    assert b"hello" in output
    assert status == 0


def test_input_reaches_the_shell_and_resizing_changes_its_size() -> None:
    async def scenario() -> bytes:
        shell = await PtyShell.start(["/bin/sh"], width=80, height=24)
        shell.write(b"stty size; echo done-$((40+2))\n")
        first = await read_until(shell, b"done-42")
        shell.resize(132, 50)
        shell.write(b"stty size; echo again-$((1+1))\n")
        second = await read_until(shell, b"again-2")
        await shell.close()
        return first + second

    output = asyncio.run(scenario())

    assert b"24 80" in output
    assert b"50 132" in output


def test_ctrl_c_interrupts_the_running_command() -> None:
    async def scenario() -> bytes:
        shell = await PtyShell.start(["/bin/sh"])
        shell.write(b"sleep 30; echo slept\n")
        await asyncio.sleep(0.3)
        shell.write(b"\x03")
        shell.write(b"echo back-$((2*3))\n")
        output = await read_until(shell, b"back-6")
        await shell.close()
        return output

    output = asyncio.run(asyncio.wait_for(scenario(), 15))

    # the typed line is echoed; only a finished sleep would print "slept" alone
    assert b"\nslept" not in output


def test_closing_hangs_up_a_shell_that_is_still_running() -> None:
    async def scenario() -> tuple[int, bytes]:
        shell = await PtyShell.start(["/bin/sh"])
        status = await shell.close(grace=1)
        return status, await shell.read()

    status, after = asyncio.run(scenario())

    assert status != 0
    assert after == b""
