"""The session state machine alone: no database, no socket."""

import pytest

from supportbox.core import events as ev
from supportbox.core.queues import QueueRef
from supportbox.core.session import Member, SessionState
from supportbox.errors import InvalidInput, SessionStateError


def customer() -> Member:
    return Member(0, ev.CUSTOMER, "Jane")


def rep(user_id: int, name: str) -> Member:
    return Member(0, ev.REPRESENTATIVE, name, user_id=user_id, username=name.lower())


def started() -> SessionState:
    state = SessionState("a" * 32, QueueRef("team", 1), "Tech Support")
    state.start(customer())
    return state


def types(events: list[ev.Event]) -> list[str]:
    return [e.event_type for e in events]


def test_a_new_session_waits_in_its_queue_with_the_customer() -> None:
    state = SessionState("a" * 32, QueueRef("general"), "General Queue")
    events = state.start(customer())
    assert types(events) == [
        ev.SESSION_START,
        ev.OWNER_CHANGED,
        ev.MEMBER_ADDED,
        ev.TO_QUEUE,
    ]
    assert state.status == "waiting"
    assert state.primary_customer() is not None
    assert events[1].destination == ev.Actor("system", 0, "Pre-start Conference")


def test_accepting_makes_the_representative_owner() -> None:
    state = started()
    events = state.accept(rep(1, "Alice"))
    assert types(events) == [ev.AWAY_FROM_QUEUE, ev.MEMBER_ADDED, ev.OWNER_CHANGED]
    assert state.status == "active"
    assert state.owner_gs == 2
    assert ("user_id", "1") in events[1].data


def test_a_second_accept_loses_with_a_clear_message() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    with pytest.raises(SessionStateError, match="already taken"):
        state.accept(rep(2, "Bob"))


def test_when_the_last_representative_leaves_the_session_returns_to_its_queue() -> None:
    state = started()
    gs = state.accept(rep(1, "Alice"))[1].destination.gsnumber  # type: ignore[union-attr]
    events = state.leave(gs)
    assert types(events) == [ev.MEMBER_DEPARTED, ev.OWNER_CHANGED, ev.TO_QUEUE]
    assert state.status == "waiting"
    assert state.primary_customer().present  # type: ignore[union-attr]


def test_the_owner_leaving_hands_the_session_to_the_invited_rep() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    state.join(rep(2, "Bob"), invited=True)
    events = state.leave(2)
    assert types(events) == [ev.MEMBER_DEPARTED, ev.OWNER_CHANGED]
    assert state.owner_gs == 3
    assert state.status == "active"


def test_the_customer_leaving_ends_the_session() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    events = state.leave(1)
    assert types(events)[-1] == ev.SESSION_END
    assert state.status == "ended"
    with pytest.raises(SessionStateError, match="has ended"):
        state.chat(1, "hello?")


def test_transfer_moves_the_session_and_its_reps_depart() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    events = state.transfer(QueueRef("rep", 2), "Bob", by_gs=2)
    assert types(events) == [ev.TO_QUEUE, ev.MEMBER_DEPARTED, ev.OWNER_CHANGED]
    assert state.queue == QueueRef("rep", 2)
    assert state.status == "waiting"


def test_chat_names_the_sender_and_the_other_side() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    from_rep = state.chat(2, "Hello")
    assert from_rep.performed_by == ev.Actor("representative", 2, "Alice")
    assert from_rep.destination == ev.Actor("customer", 1, "Jane")
    from_system = state.chat(0, "Queued")
    assert from_system.performed_by == ev.Actor("system", 0, "Bomgar")


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001])
def test_empty_or_oversized_chat_is_refused(body: str) -> None:
    with pytest.raises(InvalidInput):
        started().chat(1, body)


def test_changing_the_external_key_is_an_event_and_other_fields_are_kept() -> None:
    state = started()
    events = state.set_custom({"external_key": "INC1", "priority": "high"})
    assert types(events) == [ev.EXTERNAL_KEY]
    assert state.custom == {"priority": "high"}
    assert state.set_custom({"external_key": "INC1"}) == []
    state.set_custom({"priority": ""})
    assert state.custom == {}


def test_custom_fields_over_their_limits_are_refused() -> None:
    with pytest.raises(InvalidInput, match="1024"):
        started().set_custom({"external_key": "x" * 1025})
    with pytest.raises(InvalidInput, match="10 KB"):
        started().set_custom({f"f{i}": "x" * 1000 for i in range(11)})


def test_only_representatives_add_notes() -> None:
    state = started()
    state.accept(rep(1, "Alice"))
    assert state.note(2, "rebooted printer").body == "rebooted printer"
    with pytest.raises(SessionStateError):
        state.note(1, "I am the customer")


def test_a_dropped_connection_is_recorded_once() -> None:
    state = started()
    assert state.connection(1, False) is not None
    assert state.connection(1, False) is None
    back = state.connection(1, True)
    assert back is not None
    assert ("state", "connected") in back.data
