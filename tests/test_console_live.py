"""The console's WebSocket feed and commands, with real HTTP and WebSocket clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import websockets
import websockets.sync.client as ws_client

import webclient
from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.storage import sessions as store
from supportbox.storage.models import Recording


def open_feed(server: LiveServer, cookie: str, origin: str | None = None) -> object:
    headers = {"Cookie": f"sb_session={cookie}"}
    return ws_client.connect(
        f"{server.ws_url}/console/live",
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=5,
    )


def test_the_feed_refuses_a_missing_login_and_a_foreign_origin(
    server: LiveServer,
) -> None:
    with pytest.raises(websockets.exceptions.InvalidStatus):
        open_feed(server, "not-a-session")
    bob = webclient.rep(server, 1)
    cookie = bob.cookies["sb_session"]
    with pytest.raises(websockets.exceptions.InvalidStatus):
        open_feed(server, cookie, origin="http://evil.example")


def test_the_feed_announces_a_waiting_session_and_the_chat_of_an_accepted_one(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    alice = webclient.rep(server)
    token = webclient.csrf_of(alice.get("/console").text)
    with open_feed(server, alice.cookies["sb_session"]) as feed:  # type: ignore[attr-defined]
        first = json.loads(feed.recv(5))
        assert first == {"type": "queues", "waiting": [], "mine": []}

        request = SessionRequest(QueueRef("general"), CustomerInfo(name="Gina"))
        opened = server.run(hub.open_session(request))
        update = json.loads(feed.recv(5))
        assert [w["customer"] for w in update["waiting"]] == ["Gina"]

        accepted = alice.post(
            "/console/api/accept",
            json={"lsid": opened.lsid},
            headers={"X-CSRF-Token": token},
        )
        assert accepted.status_code == 200
        server.run(hub.chat(opened.lsid, opened.customer_gs, "ping from Gina"))
        seen: list[str] = []
        while "ping from Gina" not in seen:
            message = json.loads(feed.recv(5))
            if message["type"] == "event":
                seen.append(message["event"].get("body", ""))
        assert opened.lsid in alice.get(f"/console/api/sessions/{opened.lsid}").text


def test_console_commands_refuse_a_session_the_rep_is_not_in(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Hal"))
    opened = server.run(hub.open_session(request))
    carol = webclient.rep(server, 2)
    token = webclient.csrf_of(carol.get("/console").text)
    answer = carol.post(
        f"/console/api/sessions/{opened.lsid}/chat",
        json={"body": "hello"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 403
    assert answer.json() == {"error": "you are not in this session"}
    bad = carol.post(
        "/console/api/accept", content=b"{not json", headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400


def test_a_shell_recording_is_served_to_administrators_only(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Ivy"))
    opened = server.run(hub.open_session(request))
    cast = Path(server.data_dir) / "recordings" / "shell-1.cast"
    cast.parent.mkdir()
    cast.write_text(
        '{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "ls\\r\\n"]\n'
    )
    with server.runtime.db() as db, db.begin():
        row = store.get(db, opened.lsid)
        recording = Recording(
            session_id=row.id,
            kind="shell",
            path="recordings/shell-1.cast",
            started_at=row.start_time,
        )
        db.add(recording)
        db.flush()
        recording_id = recording.id

    admin = webclient.admin(server)
    session_page = admin.get(f"/admin/sessions/{opened.lsid}")
    assert f"/admin/recordings/{recording_id}.cast" in session_page.text
    served = admin.get(f"/admin/recordings/{recording_id}.cast")
    assert served.status_code == 200
    assert served.text == cast.read_text()
    rep = webclient.rep(server)
    assert rep.get(f"/admin/recordings/{recording_id}.cast").status_code == 403
