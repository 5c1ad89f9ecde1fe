"""The console's login on the live protocol, its HTTP helpers and recordings."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websockets.sync.client as ws_client

import webclient
from serverkit import LiveServer
from supportbox.core.hub import CustomerInfo, Hub, SessionRequest
from supportbox.core.queues import QueueRef
from supportbox.directory import users
from supportbox.storage import sessions as store
from supportbox.storage.models import Recording

HELLO = {"type": "hello", "v": 1, "role": "representative", "web_session": True}


@contextmanager
def web_hello(
    server: LiveServer, cookie: str, origin: str | None = None
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Open /live with the cookie and say hello; gives (socket, first answer)."""
    with ws_client.connect(
        f"{server.ws_url}/live",
        additional_headers={"Cookie": f"sb_session={cookie}"},
        origin=origin,  # type: ignore[arg-type]
        open_timeout=5,
    ) as socket:
        socket.send(json.dumps(HELLO))
        yield socket, json.loads(socket.recv(5))


def test_the_live_protocol_accepts_a_console_logged_in_by_its_web_session(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    alice = webclient.rep(server)
    with web_hello(server, alice.cookies["sb_session"]) as (socket, welcome):
        assert welcome["type"] == "welcome", welcome
        assert welcome["user"]["name"] == "Alice"
        assert json.loads(socket.recv(5))["type"] == "queues"

        request = SessionRequest(QueueRef("general"), CustomerInfo(name="Gina"))
        opened = server.run(hub.open_session(request))
        socket.send(json.dumps({"type": "accept", "lsid": opened.lsid, "id": "a1"}))
        server.run(hub.chat(opened.lsid, opened.customer_gs, "ping from Gina"))
        bodies: list[str] = []
        while "ping from Gina" not in bodies:
            message = json.loads(socket.recv(5))
            if message["type"] == "event":
                bodies.append(message["event"].get("body", ""))
        detail = alice.get(f"/console/api/sessions/{opened.lsid}").json()
        assert detail["result"]["customer"]["name"] == "Gina"


def test_the_live_protocol_refuses_a_bad_cookie_a_foreign_page_and_a_non_rep(
    server: LiveServer,
) -> None:
    with web_hello(server, "not-a-session") as (_socket, answer):
        assert answer["type"] == "error" and answer["code"] == "auth_failed"

    bob = webclient.rep(server, 1)
    foreign = "http://evil.example"
    with web_hello(server, bob.cookies["sb_session"], foreign) as (_socket, answer):
        assert answer["code"] == "auth_failed"

    with server.runtime.db() as db, db.begin():
        users.update(db, "admin", permissions={"perm_support": False})
    admin = webclient.admin(server)
    with web_hello(server, admin.cookies["sb_session"]) as (_socket, answer):
        assert answer["code"] == "auth_failed"


def test_console_helpers_refuse_a_session_the_rep_is_not_in(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Hal"))
    opened = server.run(hub.open_session(request))
    carol = webclient.rep(server, 2)
    token = webclient.csrf_of(carol.get("/console").text)
    detail = carol.get(f"/console/api/sessions/{opened.lsid}")
    assert detail.status_code == 403
    assert detail.json() == {"error": "you are not in this session"}
    custom = carol.post(
        f"/console/api/sessions/{opened.lsid}/custom",
        json={"values": {"priority": "high"}},
        headers={"X-CSRF-Token": token},
    )
    assert custom.status_code == 403
    unknown = carol.get("/console/api/sessions/nope")
    assert unknown.status_code == 404


def test_a_session_page_links_its_shell_recordings_through_signed_links(
    server: LiveServer,
) -> None:
    hub: Hub = server.runtime.services["hub"]
    request = SessionRequest(QueueRef("general"), CustomerInfo(name="Ivy"))
    opened = server.run(hub.open_session(request))
    cast = Path(server.data_dir) / "recordings" / "shell-1.cast"
    cast.parent.mkdir(exist_ok=True)
    cast.write_text('{"version": 2, "width": 80, "height": 24}\n[0.5, "o", "ls"]\n')
    with server.runtime.db() as db, db.begin():
        row = store.get(db, opened.lsid)
        db.add(
            Recording(
                session_id=row.id,
                kind="shell",
                instance=1,
                path="recordings/shell-1.cast",
                started_at=row.start_time,
            )
        )

    admin = webclient.admin(server)
    page = admin.get(f"/admin/sessions/{opened.lsid}").text
    found = re.search(r'data-testid="recording-download" href="([^"]+)"', page)
    found = found or re.search(r'href="([^"]+)" data-testid="recording-download"', page)
    assert found is not None, "the session page has no recording link"
    link = html.unescape(found.group(1))
    assert "/recordings/download?t=" in link
    served = server.http().get(link)
    assert served.status_code == 200
    assert served.text == cast.read_text()
    rep = webclient.rep(server)
    assert rep.get(f"/admin/sessions/{opened.lsid}").status_code == 403
