"""Parsing live protocol frames, with no socket involved."""

from __future__ import annotations

import json

import pytest

from supportbox.errors import ProtocolError
from supportbox.live import protocol
from supportbox.live.protocol import parse


def test_a_valid_chat_frame_becomes_a_message_with_its_id() -> None:
    msg = parse('{"type": "chat", "id": "a1", "body": "hi", "extra": 1}')
    assert (msg.type, msg.id, msg.fields) == ("chat", "a1", {"body": "hi"})


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", protocol.MALFORMED),
        ('"text"', protocol.MALFORMED),
        ('{"id": "x"}', protocol.MALFORMED),
        ('{"type": "fly"}', protocol.UNKNOWN_TYPE),
        ('{"type": "note", "lsid": "x"}', protocol.INVALID),
        ('{"type": "hello", "v": true, "role": "customer"}', protocol.INVALID),
        (
            '{"type": "hello", "v": 1, "role": "x", "queue_updates": 1}',
            protocol.INVALID,
        ),
        ('{"type": "ping", "id": 7}', protocol.INVALID),
        (b"\x00", protocol.MALFORMED),
    ],
)
def test_bad_frames_are_refused_with_a_code(frame: str | bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    assert caught.value.code == code


def test_a_frame_over_the_limit_is_too_large_before_it_is_parsed() -> None:
    frame = json.dumps({"type": "chat", "body": "x" * protocol.MAX_FRAME})
    with pytest.raises(ProtocolError) as caught:
        parse(frame)
    assert caught.value.code == protocol.TOO_LARGE


def test_an_error_names_the_id_of_the_message_it_answers() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse('{"type": "teleport", "id": "z9"}')
    frame = protocol.error_frame(
        caught.value.code, caught.value.message, caught.value.re
    )
    assert frame == {
        "type": "error",
        "code": "unknown_type",
        "message": "unknown message type 'teleport'",
        "re": "z9",
    }


def test_survey_answers_must_map_names_to_strings() -> None:
    assert protocol.string_map({"a": "1"}, "answers") == {"a": "1"}
    with pytest.raises(ProtocolError):
        protocol.string_map({"a": 1}, "answers")
