"""Live sessions: join, leave, transfer, chat, terminate (spec 4.4-4.7, 4.11)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from supportbox.api.command.call import Call, success
from supportbox.api.command.registry import ADMIN, API, FULL, READ, action
from supportbox.api.command.targets import (
    online_reps,
    parse_queue,
    rep_by_id,
    rep_by_username,
)
from supportbox.core.queues import QueueRef
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput, SessionStateError
from supportbox.storage.models import User
from supportbox.xml.writer import E


def _rep(call: Call, *, online: bool) -> User:
    """The rep named by ``rep_id`` or ``rep_username`` (also ``user_id``)."""
    with call.runtime.db() as db:
        if call.params.get("rep_username"):
            user = rep_by_username(db, call.text("rep_username", limit=100))
        elif call.params.get("rep_id") or not call.params.get("user_id"):
            user = rep_by_id(db, call.integer("rep_id"))
        else:
            user = rep_by_id(db, call.integer("user_id"))
        if online and user.id not in online_reps(db):
            raise SessionStateError(
                f"representative {user.username!r} is not logged in"
            )
        db.expunge(user)
        return user


@action("join_session", FULL, ADMIN)
async def join_session(call: Call) -> E:
    lsid, _ = await call.open_session()
    user = await run_in_threadpool(lambda: _rep(call, online=True))
    await call.hub.join(lsid, user.id)
    return success("Representative successfully added")


@action("leave_session", FULL, ADMIN)
async def leave_session(call: Call) -> E:
    lsid, _ = await call.open_session()
    user = await run_in_threadpool(lambda: _rep(call, online=False))
    await call.hub.leave_user(lsid, user.id)
    return success("Representative successfully removed")


def _queue(call: Call) -> QueueRef:
    with call.runtime.db() as db:
        return parse_queue(db, call.text("queue_id", limit=200)).queue


@action("transfer_session", FULL, ADMIN)
async def transfer_session(call: Call) -> E:
    lsid, _ = await call.open_session()
    queue = await run_in_threadpool(_queue, call)
    await call.hub.transfer(lsid, queue)
    return success("Successfully transferred")


@action("terminate_session", FULL, ADMIN)
async def terminate_session(call: Call) -> E:
    lsid, _ = await call.open_session()
    await call.hub.end(lsid)
    return success("Successfully terminated")


@action("send_chat_message", READ, API)
async def send_chat_message(call: Call) -> E:
    """A chat line from the system, the customer or a rep in the session."""
    if call.params.get("team_id"):
        raise InvalidInput(
            "team chat is not supported; send to a session with lsid instead"
        )
    lsid, state = await call.open_session()
    body = call.text("body", limit=10_000)

    who = call.params.get("impersonate", "")
    if who in {"", "system"}:
        from_gs = 0
    elif who == "customer":
        customer = state.primary_customer()
        if customer is None or not customer.present:
            raise SessionStateError(f"the customer has left session {lsid}")
        from_gs = customer.gsnumber
    elif who.startswith("rep:") and is_id(who[4:]):
        gs = state.rep_gs(int(who[4:]))
        if gs is None:
            raise SessionStateError(
                f"representative {who[4:]} is not in session {lsid}"
            )
        from_gs = gs
    else:
        raise InvalidInput(f"impersonate {who!r} is not customer or rep:<user id>")

    await call.hub.chat(lsid, from_gs, body)
    return success("Chat message sent")
