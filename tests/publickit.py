"""Helpers of the public-site tests: reps online, keys, stored sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from livekit import on_server
from serverkit import (
    LiveServer,
    drop_database,
    fresh_database_url,
    init_data_dir,
    run_server,
)
from supportbox.core import keys
from supportbox.core.hub import Hub
from supportbox.core.queues import QueueRef
from supportbox.settings import Settings
from supportbox.storage.models import (
    Issue,
    Participant,
    PublicSite,
    SessionKey,
    SupportSession,
    User,
)


@pytest.fixture(scope="module")
def site_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One demo server shared by a module's tests, which must not disturb
    one another: they count sessions before and after, not from zero."""
    data_dir = tmp_path_factory.mktemp("site") / "data"
    data_dir.mkdir()
    url = fresh_database_url(data_dir)
    try:
        credentials = init_data_dir(data_dir, url)
        settings = Settings(data_dir=data_dir, database_url=url)
        with run_server(settings, credentials) as live:
            yield live
    finally:
        drop_database(url)


def hub(server: LiveServer) -> Hub:
    result: Hub = server.runtime.services["hub"]
    return result


def user_id(server: LiveServer, username: str) -> int:
    with server.runtime.db() as db:
        found = db.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def issue(server: LiveServer, code: str) -> tuple[int, int, str]:
    """(issue id, team id, display name) of a demo issue."""
    with server.runtime.db() as db:
        row = db.scalar(select(Issue).where(Issue.code_name == code))
        assert row is not None
        return row.id, row.team_id, row.display_name


def log_in(server: LiveServer, username: str) -> int:
    """Mark a representative logged in, as the rep console would."""
    uid = user_id(server, username)
    on_server(server, hub(server).rep_online(uid))
    return uid


def authenticate(server: LiveServer, lsid: str, token: str) -> int:
    """The gsnumber the hub admits with ``token`` (which it uses up)."""
    gsnumber, _following = on_server(server, hub(server).authenticate(lsid, token))
    return gsnumber


def make_key(
    server: LiveServer,
    queue_kind: str = "general",
    queue_ref: int | None = None,
    *,
    ttl: int = 3600,
    expired: bool = False,
    external_key: str = "",
    custom: dict[str, str] | None = None,
) -> SessionKey:
    """A session key, made as generate_session_key makes it."""
    now = time.time() - (ttl + 60 if expired else 0)
    issue_id = queue_ref if queue_kind == "issue" else None
    queue = QueueRef("general") if issue_id else QueueRef(queue_kind, queue_ref)
    with server.runtime.write_db() as db, db.begin():
        key = keys.generate_key(
            db,
            queue,
            ttl,
            external_key,
            custom,
            issue_id=issue_id,
            now=now,
        )
        db.expunge(key)
    return key


def key_used_by(server: LiveServer, key_id: int) -> str | None:
    with server.runtime.db() as db:
        key = db.get(SessionKey, key_id)
        assert key is not None
        return key.used_by_lsid


@dataclass
class Stored:
    """A stored session and its customer, flattened for assertions."""

    lsid: str
    queue: str
    status: str
    site_id: int | None
    issue_id: int | None
    external_key: str
    custom: dict[str, Any]
    start_method: str
    customer: dict[str, Any]
    customer_name: str
    public_ip: str


def stored(server: LiveServer, lsid: str) -> Stored:
    with server.runtime.db() as db:
        row = db.scalar(select(SupportSession).where(SupportSession.lsid == lsid))
        assert row is not None, f"no stored session {lsid}"
        customer = db.scalar(
            select(Participant).where(
                Participant.session_id == row.id, Participant.kind == "customer"
            )
        )
        assert customer is not None
        queue = (
            row.queue_kind
            if row.queue_ref is None
            else (f"{row.queue_kind}:{row.queue_ref}")
        )
        return Stored(
            lsid=row.lsid,
            queue=queue,
            status=row.status,
            site_id=row.public_site_id,
            issue_id=row.issue_id,
            external_key=row.external_key,
            custom=dict(row.custom),
            start_method=row.start_method,
            customer=dict(customer.info),
            customer_name=customer.name,
            public_ip=customer.public_ip,
        )


def session_count(server: LiveServer) -> int:
    with server.runtime.db() as db:
        return len(db.scalars(select(SupportSession.id)).all())


def default_site_id(server: LiveServer) -> int:
    with server.runtime.db() as db:
        site = db.scalar(select(PublicSite).where(PublicSite.is_default.is_(True)))
        assert site is not None
        return site.id
