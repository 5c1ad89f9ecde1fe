"""Talking to the Command API in tests: tokens, calls, XSD validation.

Every reply goes through :meth:`Api.call`, which checks the framing of
spec 1.3 (status, Content-Type, declaration and blank line, namespace)
and validates the document against the server's own /api/command.xsd.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from lxml import etree

from serverkit import LiveServer
from supportbox.storage.models import RepPresence

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n\n'


def token_for(live: LiveServer, client_id: str, secret: str) -> str:
    with live.http() as http:
        response = http.post(
            "/oauth2/token",
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass
class Reply:
    response: httpx.Response
    root: Any
    namespace: str

    @property
    def tag(self) -> str:
        return str(etree.QName(self.root).localname)

    @property
    def text(self) -> str:
        return str(self.root.text or "")

    def q(self, path: str) -> str:
        """``path`` (``a/b``) with the namespace filled in, for find/findall."""
        if not self.namespace:
            return path
        ns = "{" + self.namespace + "}"
        return "/".join(
            ns + part if part[0].isalpha() else part for part in path.split("/")
        )

    def find(self, path: str, where: Any = None) -> Any:
        found = (self.root if where is None else where).find(self.q(path))
        assert found is not None, f"no {path} in {self.response.text}"
        return found

    def findall(self, path: str, where: Any = None) -> list[Any]:
        return list((self.root if where is None else where).findall(self.q(path)))

    def value(self, path: str, where: Any = None) -> str:
        return str(self.find(path, where).text or "")


@dataclass
class Api:
    """A Command API client bound to one server and one set of credentials."""

    live: LiveServer
    token: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    path: str = "/api/command"
    _schema: Any = None

    @classmethod
    def demo(cls, live: LiveServer) -> Api:
        api = live.credentials["api"]
        return cls(live, token_for(live, api["client_id"], api["client_secret"]))

    @property
    def namespace(self) -> str:
        return self.live.settings.namespace("command")

    def schema(self) -> Any:
        if self._schema is None:
            with self.live.http() as http:
                text = http.get("/api/command.xsd").content
            self._schema = etree.XMLSchema(etree.fromstring(text))
        return self._schema

    def send(self, method: str = "GET", **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with self.live.http() as http:
            return http.request(
                method, kwargs.pop("path", self.path), headers=headers, **kwargs
            )

    def check(self, response: httpx.Response) -> Reply:
        """The reply, after checking framing and validating it."""
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/xml; charset=UTF-8"
        text = response.text
        assert text.startswith(DECLARATION), text[:80]
        root = etree.fromstring(response.content)
        namespace = self.namespace
        if namespace:
            assert f'xmlns="{namespace}"' in text.splitlines()[2]
        assert (etree.QName(root).namespace or "") == namespace
        schema = self.schema()
        assert schema.validate(root), f"{schema.error_log}\n{text}"
        assert "\t" in text or len(text.splitlines()) == 3
        return Reply(response, root, namespace)

    def call(self, action: str, method: str = "GET", **params: Any) -> Reply:
        params = {"action": action, **self.auth, **params}
        if method == "GET":
            return self.check(self.send("GET", params=params))
        return self.check(self.send("POST", data=params))

    def ok(self, action: str, **params: Any) -> Reply:
        reply = self.call(action, **params)
        assert reply.tag != "error", reply.response.text
        return reply

    def error(self, action: str, **params: Any) -> str:
        reply = self.call(action, **params)
        assert reply.tag == "error", reply.response.text
        assert reply.text
        return reply.text


def rep_online(live: LiveServer, user_id: int, since: float | None = None) -> None:
    """Mark a rep logged in, as a console on some node would (rep_presence)."""
    now = time.time() if since is None else since
    with live.runtime.db() as db, db.begin():
        if db.get(RepPresence, user_id) is None:
            db.add(
                RepPresence(
                    user_id=user_id,
                    logged_in_since=now,
                    last_seen=now,
                    connections=1,
                )
            )


def rep_offline(live: LiveServer, user_id: int) -> None:
    with live.runtime.db() as db, db.begin():
        presence = db.get(RepPresence, user_id)
        if presence is not None:
            db.delete(presence)


def user_id(live: LiveServer, username: str) -> int:
    from supportbox.directory import users

    with live.runtime.db() as db:
        return users.get(db, username).id


def new_session(api: Api, queue_id: str = "general", **params: Any) -> str:
    """A waiting session, started the way a chat bot starts one."""
    key = api.ok("generate_session_key", type="support", queue_id=queue_id, **params)
    reply = api.ok(
        "create_virtual_customer",
        short_key=key.value("short_key"),
        name="Chat Customer",
        ip_address="192.0.2.10",
        operating_system="Windows 11",
        computer_name="CUST-PC",
    )
    return reply.value("lsid")
