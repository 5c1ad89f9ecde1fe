"""Representatives: get_logged_in_reps, set_rep_status, logout_rep (spec 4.1)."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from sqlalchemy import delete, update
from starlette.concurrency import run_in_threadpool

from supportbox.api.command.call import Call, iso, success
from supportbox.api.command.registry import ADMIN, FULL, READ, action
from supportbox.core.presence import QUEUES_CHANNEL, RepPresenceView
from supportbox.errors import NotFound
from supportbox.storage.models import RepPresence
from supportbox.xml.writer import E

STATUSES = ("available", "busy", "do_not_disturb")


def direct_link(base_url: str, rep: RepPresenceView) -> str:
    """An HTML link that starts a session with ``rep`` (escaped by the writer)."""
    query = urlencode({"id": rep.user_id, "name": rep.public_display_name})
    url = f"{base_url}/api/start_session?{query}"
    return f'<a href="{url}">{html.escape(rep.public_display_name)}</a>'


@action("get_logged_in_reps", READ)
async def get_logged_in_reps(call: Call) -> E:
    reps = await run_in_threadpool(call.hub.logged_in_reps)
    base = call.runtime.settings.base_url
    root = E("logged_in_reps")
    for rep in reps:
        item = root.add("rep", id=rep.user_id)
        item.add("display_name", rep.public_display_name)
        item.add("public_display_name", rep.public_display_name)
        item.add("private_display_name", rep.private_display_name)
        item.add("type", "Normal")
        item.add("direct_link", direct_link(base, rep))
        since = rep.logged_in_since
        item.add("logged_in_since", iso(since), timestamp=int(since))
        item.add("presentation_count", 0)
        item.add("support_session_count", rep.support_session_count)
        item.add("showing_on_rep_list", 1 if rep.showing_on_rep_list else 0)
    return root


def _set_status(call: Call, user_id: int, status: str | None) -> None:
    with call.runtime.write_db() as db, db.begin():
        if status is None:
            done = db.execute(delete(RepPresence).where(RepPresence.user_id == user_id))
        else:
            done = db.execute(
                update(RepPresence)
                .where(RepPresence.user_id == user_id)
                .values(status=status)
            )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound(f"representative {user_id} is not logged in")


@action("set_rep_status", FULL, ADMIN)
async def set_rep_status(call: Call) -> E:
    user_id = call.integer("user_id")
    status = call.choice("status", STATUSES, "")
    await run_in_threadpool(_set_status, call, user_id, status)
    await call.hub.broker.publish(QUEUES_CHANNEL, {"type": "presence_changed"})
    return success("Representative status was set")


@action("logout_rep", FULL, ADMIN)
async def logout_rep(call: Call) -> E:
    """Forget the rep's presence and tell their consoles (channel ``rep:<id>``)."""
    user_id = call.integer("user_id")
    await run_in_threadpool(_set_status, call, user_id, None)
    await call.hub.broker.publish(f"rep:{user_id}", {"type": "logout"})
    await call.hub.broker.publish(QUEUES_CHANNEL, {"type": "presence_changed"})
    return success("Representative was logged out")
