"""The server side of shared screens, driven by a scripted customer:
checking parts and input, and the recorder seam."""

from __future__ import annotations

import asyncio
import io
import random
import struct
import threading
import zlib
from typing import Any

import pytest
from PIL import Image

from livekit import open_session
from serverkit import LiveServer
from streamkit import Side, customer, representative
from supportbox.errors import InvalidInput, SessionStateError
from supportbox.screen import codec, inputs
from supportbox.screen.recorder import ScreenSource
from supportbox.streams import frames
from supportbox.streams.relay import relay_of


class FakeRecorder:
    def __init__(self, source: ScreenSource) -> None:
        self.source = source
        self.frames: list[tuple[bytes, int, int, float]] = []
        self.closed = 0
        self.closed_at: float | None = None

    def frame(self, fb_rgb: bytes, width: int, height: int, at: float) -> None:
        self.frames.append((fb_rgb, width, height, at))

    def close(self, at: float | None = None) -> tuple[str, str, int]:
        self.closed += 1
        self.closed_at = at
        return ("screen.mp4", "0" * 64, 0)


def red_update(width: int = 8, height: int = 8) -> list[bytes]:
    tile = codec.encode_tile(Image.new("RGB", (width, height), (255, 0, 0)), 0, 0)
    return codec.encode_update([tile], width, height, key=True)


async def shared(server: LiveServer) -> tuple[Side, Side, int]:
    """A customer without an agent (the test answers for it) and a rep."""
    opened = open_session(server)
    cust = await customer(server, opened, allow=())
    cust.agent = None
    rep = await representative(server)
    await rep.send("accept", lsid=opened.lsid, id="a")
    await rep.expect("ok", re="a")
    await rep.send("screen_open", lsid=opened.lsid, id="s")
    channel: int = (await rep.expect("ok", re="s"))["channel"]
    await cust.expect("screen_request", channel=channel)
    return cust, rep, channel


def test_parts_are_checked_drawn_recorded_and_passed_on(server: LiveServer) -> None:
    recorders: list[FakeRecorder] = []

    async def factory(source: ScreenSource) -> FakeRecorder:
        recorders.append(FakeRecorder(source))
        return recorders[-1]

    relay_of(server.runtime).screens.recorder_factory = factory

    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await shared(server)
        await cust.send("screen_accept", channel=channel, width=8, height=8, id="y")
        await cust.expect("ok", re="y")
        await rep.expect("screen_opened", channel=channel)
        (part,) = red_update()
        await cust.ws.send(frames.encode(channel, 0, part))
        passed = frames.decode(await rep.data.get())[2]
        await cust.ws.send(frames.encode(channel, 1, b"\x01\x00"))
        malformed = await cust.expect("error")
        await rep.ws.send(frames.encode(channel, 0, part))
        wrong_way = await rep.expect("error")
        await rep.send("screen_ack", channel=channel, update=1)
        ack = await cust.expect("screen_ack", channel=channel)
        await cust.send("screen_close", channel=channel, id="x")
        await cust.expect("ok", re="x")
        closed = await rep.expect("screen_closed", channel=channel)
        await cust.close()
        await rep.close()
        return {
            "passed": passed == part,
            "malformed": malformed,
            "wrong_way": wrong_way,
            "ack": ack,
            "closed": closed,
        }

    got = asyncio.run(scenario())

    assert got["passed"]
    assert got["malformed"]["code"] == "invalid"
    assert got["wrong_way"]["code"] == "session_state"
    assert got["ack"]["update"] == 1
    assert got["closed"]["reason"] == "stopped by the customer"
    (recorder,) = recorders
    assert (recorder.source.width, recorder.source.height) == (8, 8)
    assert [(w, h) for _rgb, w, h, _at in recorder.frames] == [(8, 8)]
    assert recorder.frames[0][0] == bytes([255, 0, 0]) * 64
    assert recorder.closed == 1
    assert recorder.closed_at is not None
    assert recorder.closed_at >= recorder.frames[0][3]


def test_a_recorder_that_must_not_fail_refuses_the_sharing(server: LiveServer) -> None:
    async def factory(source: ScreenSource) -> FakeRecorder:
        raise SessionStateError("the screen recording cannot be written")

    relay_of(server.runtime).screens.recorder_factory = factory

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        cust, rep, channel = await shared(server)
        await cust.send("screen_accept", channel=channel, width=8, height=8, id="y")
        refused = await cust.expect("error", re="y")
        closed = await rep.expect("screen_closed", channel=channel)
        await cust.close()
        await rep.close()
        return refused, closed

    refused, closed = asyncio.run(scenario())

    assert refused["code"] == "session_state"
    assert closed["reason"] == "the screen recording cannot be written"


def test_only_the_customer_grants_control_and_only_when_asked(
    server: LiveServer,
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        cust, rep, channel = await shared(server)
        await cust.send("screen_accept", channel=channel, width=8, height=8)
        await rep.expect("screen_opened", channel=channel)
        await cust.send("control_grant", channel=channel, id="g0")
        unasked = await cust.expect("error", re="g0")
        await rep.send("control_grant", channel=channel, id="g1")
        by_rep = await rep.expect("error", re="g1")
        await rep.send("control_request", channel=channel)
        await cust.expect("control_request", channel=channel)
        await cust.send("control_grant", channel=channel, id="g2")
        await rep.expect("control_granted", channel=channel)
        bad = {"event": "move", "x": -1, "y": 0}
        await rep.send("screen_input", channel=channel, events=[bad], id="i")
        invalid = await rep.expect("error", re="i")
        await cust.close()
        ended = await rep.expect("screen_closed", channel=channel)
        await rep.close()
        return [unasked, by_rep, invalid, ended]

    unasked, by_rep, invalid, ended = asyncio.run(scenario())

    assert unasked["code"] == "session_state"
    assert by_rep["code"] == "forbidden"
    assert invalid["code"] == "invalid"
    assert ended["reason"] == "the other side disconnected"


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([], "1 to 64"),
        ([{"event": "teleport"}], "one of"),
        ([{"event": "move", "x": 1}], "y of move"),
        ([{"event": "move", "x": 1, "y": True}], "integer"),
        ([{"event": "button_down", "button": 12}], "1 to 9"),
        ([{"event": "key_down", "key": ""}], "keysym"),
        ([{"event": "wheel", "dx": 0, "dy": 99}], "-20 to 20"),
    ],
)
def test_bad_input_events_are_refused_clearly(events: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        inputs.check(events)


def test_input_events_keep_only_their_fields() -> None:
    checked = inputs.check([{"event": "key_down", "key": "a", "extra": "x"}])
    assert checked == [{"event": "key_down", "key": "a"}]


def test_a_second_rep_watches_from_the_servers_picture_without_control(
    server: LiveServer,
) -> None:
    async def scenario() -> dict[str, Any]:
        cust, alice, channel = await shared(server)
        lsid = next(iter(relay_of(server.runtime).customers))
        await cust.send("screen_accept", channel=channel, width=8, height=8)
        await alice.expect("screen_opened", channel=channel)
        await cust.ws.send(frames.encode(channel, 0, red_update()[0]))
        await alice.data.get()

        bob = await representative(server, "bob")
        await alice.send("invite", lsid=lsid, username="bob")
        await bob.expect("offer", lsid=lsid)
        await bob.send("join", lsid=lsid, id="j")
        await bob.expect("ok", re="j")
        await bob.send("screen_watch", lsid=lsid, id="w")
        opened = await bob.expect("screen_opened", channel=channel)
        await bob.expect("ok", re="w")
        framebuffer = codec.Framebuffer()
        first = framebuffer.apply(frames.decode(await bob.data.get())[2])

        blue = codec.encode_tile(Image.new("RGB", (4, 4), (0, 0, 255)), 4, 4)
        (change,) = codec.encode_update([blue], 8, 8, key=False)
        await cust.ws.send(frames.encode(channel, 1, change))
        framebuffer.apply(frames.decode(await bob.data.get())[2])
        await bob.send("screen_input", channel=channel, events=[], id="i")
        no_input = await bob.expect("error", re="i")
        await cust.send("screen_close", channel=channel)
        closed = await bob.expect("screen_closed", channel=channel)
        for side in (cust, alice, bob):
            await side.close()
        return {
            "opened": opened,
            "first": first,
            "picture": framebuffer.image(),
            "no_input": no_input,
            "closed": closed,
        }

    got = asyncio.run(scenario())

    assert got["opened"]["viewer"] is True and got["first"] is True
    assert got["picture"].getpixel((0, 0)) == (255, 0, 0)
    assert got["picture"].getpixel((5, 5)) == (0, 0, 255)
    assert got["no_input"]["code"] == "not_found"
    assert got["closed"]["reason"] == "stopped by the customer"


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG file that only says how big it is: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def _gif(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (255, 0, 0)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "tile",
    [
        codec.Tile(0, 0, 8, 8, codec.PNG, _png_claiming(30000, 30000)),
        codec.Tile(0, 0, 8, 8, codec.PNG, _gif(8, 8)),
        codec.Tile(
            0,
            0,
            8,
            8,
            codec.JPEG,
            codec.encode_tile(Image.new("RGB", (8, 8)), 0, 0).data,
        ),
    ],
    ids=["bomb", "gif-as-png", "png-as-jpeg"],
)
def test_a_tile_of_another_format_or_a_bomb_is_an_error_frame(
    server: LiveServer, tile: codec.Tile
) -> None:
    async def scenario() -> tuple[dict[str, Any], bytes]:
        cust, rep, channel = await shared(server)
        await cust.send("screen_accept", channel=channel, width=8, height=8)
        await rep.expect("screen_opened", channel=channel)
        (bad,) = codec.encode_update([tile], 8, 8, key=True)
        await cust.ws.send(frames.encode(channel, 0, bad))
        error = await cust.expect("error")
        # The connection and the screen still work.
        (good,) = red_update()
        await cust.ws.send(frames.encode(channel, 1, good))
        passed = frames.decode(await rep.data.get())[2]
        await cust.close()
        await rep.close()
        return error, bytes(passed)

    error, passed = asyncio.run(scenario())

    assert error["code"] == "invalid"
    assert "readable image" in error["message"] or "size" in error["message"]
    assert passed == red_update()[0]


def test_a_rep_who_leaves_loses_the_screen_and_its_control(server: LiveServer) -> None:
    async def scenario() -> dict[str, Any]:
        cust, alice, channel = await shared(server)
        lsid = next(iter(relay_of(server.runtime).customers))
        await cust.send("screen_accept", channel=channel, width=8, height=8)
        await alice.expect("screen_opened", channel=channel)
        (red,) = red_update()
        await cust.ws.send(frames.encode(channel, 0, red))
        await alice.data.get()
        await alice.send("control_request", channel=channel)
        await cust.expect("control_request", channel=channel)
        await cust.send("control_grant", channel=channel)
        await alice.expect("control_granted", channel=channel)

        bob = await representative(server, "bob")
        await alice.send("invite", lsid=lsid, username="bob")
        await bob.expect("offer", lsid=lsid)
        await bob.send("join", lsid=lsid, id="j")
        await bob.expect("ok", re="j")
        await bob.send("screen_watch", lsid=lsid, id="w")
        await bob.expect("ok", re="w")
        await bob.data.get()

        # The viewer leaves: the next part reaches alice, never bob.
        await bob.send("leave", lsid=lsid)
        await bob.expect("left", lsid=lsid)
        await cust.ws.send(frames.encode(channel, 1, red))
        await alice.data.get()
        await bob.send("screen_ack", channel=channel, update=1, id="a")
        bob_ack = await bob.expect("error", re="a")
        bob_parts = bob.data.qsize()

        # The rep in control leaves: input is refused, the screen closes.
        await alice.send("leave", lsid=lsid)
        await alice.expect("left", lsid=lsid)
        closed = await cust.expect("screen_closed", channel=channel)
        move = {"event": "move", "x": 1, "y": 1}
        await alice.send("screen_input", channel=channel, events=[move], id="i")
        refused = await alice.expect("error", re="i")
        await cust.ws.send(frames.encode(channel, 2, red))
        late = await cust.expect("error")
        alice_parts = alice.data.qsize()
        forwarded = [f for f in list(cust.json._queue) if f["type"] == "screen_input"]
        for side in (cust, alice, bob):
            await side.close()
        return {
            "bob_ack": bob_ack,
            "bob_parts": bob_parts,
            "closed": closed,
            "refused": refused,
            "late": late,
            "alice_parts": alice_parts,
            "forwarded": forwarded,
        }

    got = asyncio.run(scenario())

    assert got["bob_ack"]["code"] in ("session_state", "not_found")
    assert got["bob_parts"] == 0
    assert got["closed"]["reason"] in (
        "the representative left the session",
        "the session ended",
    )
    assert got["refused"]["code"] in ("session_state", "not_found")
    assert got["late"]["code"] in ("session_state", "not_found")
    assert got["alice_parts"] == 0
    assert got["forwarded"] == []


def _noise_update(size: int, seed: int) -> tuple[bytes, Image.Image]:
    image = Image.frombytes(
        "RGB", (size, size), random.Random(seed).randbytes(size * size * 3)
    )
    (part,) = codec.encode_update(
        [codec.encode_tile(image, 0, 0)], size, size, key=True
    )
    return part, image


def test_a_watcher_that_does_not_read_never_stalls_the_customer(
    server: LiveServer,
) -> None:
    size, count = 400, 80  # parts of about 480 kB: far more than any buffer

    async def scenario() -> dict[str, Any]:
        cust, alice, channel = await shared(server)
        lsid = next(iter(relay_of(server.runtime).customers))
        await cust.send("screen_accept", channel=channel, width=size, height=size)
        await alice.expect("screen_opened", channel=channel)
        first, _ = _noise_update(size, 0)
        await cust.ws.send(frames.encode(channel, 0, first))
        await alice.data.get()

        bob = await representative(server, "bob")
        await alice.send("invite", lsid=lsid, username="bob")
        await bob.expect("offer", lsid=lsid)
        await bob.send("join", lsid=lsid, id="j")
        await bob.expect("ok", re="j")
        await bob.send("screen_watch", lsid=lsid, id="w")
        await bob.expect("ok", re="w")
        await bob.data.get()
        # Bob stops reading: his socket fills up and stays full.
        bob.reader.cancel()

        last = Image.new("RGB", (1, 1))
        for index in range(1, count + 1):
            part, last = _noise_update(size, index)
            await cust.ws.send(frames.encode(channel, index, part))
            # Alice gets every part while bob reads nothing.
            got = await asyncio.wait_for(alice.data.get(), 20)
            assert frames.decode(got)[2] == part
        (viewer,) = relay_of(server.runtime).channels[channel].screen.viewers  # type: ignore[union-attr]
        skipped = viewer.skipped

        # Bob reads again: he catches up to the last picture, skipping ahead.
        bob.reader = asyncio.ensure_future(bob._read())
        framebuffer, received = codec.Framebuffer(), 0
        while not (
            framebuffer.ready and framebuffer.image().tobytes() == last.tobytes()
        ):
            framebuffer.apply(
                frames.decode(await asyncio.wait_for(bob.data.get(), 20))[2]
            )
            received += 1
        for side in (cust, alice, bob):
            await side.close()
        return {"skipped": skipped, "received": received}

    got = asyncio.run(scenario())

    assert got["skipped"] >= 1
    assert got["received"] < count


def test_one_screen_per_session_and_its_size_changes_only_in_key_updates(
    server: LiveServer,
) -> None:
    async def scenario() -> dict[str, Any]:
        cust, rep, channel = await shared(server)
        lsid = next(iter(relay_of(server.runtime).customers))
        await rep.send("screen_open", lsid=lsid, id="s2")
        second = await rep.expect("error", re="s2")
        await cust.send("screen_accept", channel=channel, width=8, height=8)
        await rep.expect("screen_opened", channel=channel)
        await cust.ws.send(frames.encode(channel, 0, red_update()[0]))
        await rep.data.get()

        # Not a key update: the size may not change.
        tile = codec.encode_tile(Image.new("RGB", (4, 4)), 0, 0)
        (moved,) = codec.encode_update([tile], 16, 16, key=False)
        await cust.ws.send(frames.encode(channel, 1, moved))
        not_key = await cust.expect("error")
        # A key update may double each side, not more.
        await cust.ws.send(frames.encode(channel, 2, red_update(24, 24)[0]))
        too_big = await cust.expect("error")
        (grown,) = red_update(16, 16)
        await cust.ws.send(frames.encode(channel, 3, grown))
        passed = frames.decode(await rep.data.get())[2]
        size = relay_of(server.runtime).channels[channel].screen.framebuffer.size  # type: ignore[union-attr]
        await cust.close()
        await rep.close()
        return {
            "second": second,
            "not_key": not_key,
            "too_big": too_big,
            "grown": passed == grown,
            "size": size,
            "parts": rep.data.qsize(),
        }

    got = asyncio.run(scenario())

    assert got["second"]["code"] == "session_state"
    assert "already has a screen" in got["second"]["message"]
    assert got["not_key"]["code"] == "invalid"
    assert got["too_big"]["code"] == "invalid"
    assert "16x16" in got["too_big"]["message"]
    assert got["grown"] and got["size"] == (16, 16)
    assert got["parts"] == 0


def test_a_screen_closed_while_its_recording_opens_closes_the_recording(
    server: LiveServer,
) -> None:
    recorders: list[FakeRecorder] = []
    started, release = threading.Event(), threading.Event()

    async def factory(source: ScreenSource) -> FakeRecorder:
        recorders.append(FakeRecorder(source))
        started.set()
        await asyncio.to_thread(release.wait, 30)
        return recorders[-1]

    relay_of(server.runtime).screens.recorder_factory = factory

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        cust, rep, channel = await shared(server)
        await cust.send("screen_accept", channel=channel, width=8, height=8, id="y")
        assert await asyncio.to_thread(started.wait, 30)
        await rep.send("screen_close", channel=channel, id="c")
        await rep.expect("ok", re="c")
        closed = await cust.expect("screen_closed", channel=channel)
        release.set()
        answer = await cust.expect("error", re="y")
        await cust.close()
        await rep.close()
        return closed, answer

    closed, answer = asyncio.run(scenario())

    assert closed["reason"] == "stopped by the representative"
    assert answer["code"] == "session_state"
    (recorder,) = recorders
    assert recorder.closed == 1


def test_a_rep_who_leaves_loses_its_shells_and_transfers_too(
    server: LiveServer,
) -> None:
    async def scenario() -> dict[str, Any]:
        cust, rep, screen = await shared(server)
        lsid = next(iter(relay_of(server.runtime).customers))
        await rep.send("file_fetch", lsid=lsid, path="/etc/hosts", id="f")
        transfer = (await rep.expect("ok", re="f"))["channel"]
        await cust.expect("file_request", channel=transfer)
        await rep.send("shell_open", lsid=lsid, id="h")
        shell = (await rep.expect("ok", re="h"))["channel"]
        await cust.expect("shell_request", channel=shell)

        await rep.send("leave", lsid=lsid)
        await rep.expect("left", lsid=lsid)
        # in the order the channels were opened
        screen_closed = await cust.expect("screen_closed", channel=screen)
        failed = await cust.expect("file_failed", channel=transfer)
        shell_closed = await cust.expect("shell_closed", channel=shell)
        await cust.send("file_accept", channel=transfer, size=3, id="a")
        late = await cust.expect("error", re="a")
        await cust.close()
        await rep.close()
        return {
            "failed": failed,
            "shell": shell_closed,
            "screen": screen_closed,
            "late": late,
            "left": list(relay_of(server.runtime).channels),
        }

    got = asyncio.run(scenario())

    left = {"the representative left the session", "the session ended"}
    assert got["failed"]["reason"] in left
    assert got["shell"]["reason"] in left
    assert got["screen"]["reason"] in left
    assert got["late"]["code"] == "not_found"
    assert got["left"] == []
