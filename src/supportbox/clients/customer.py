"""``supportbox customer``: the customer's side of a support session."""

from __future__ import annotations

import asyncio
import contextlib
import platform
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from supportbox.clients import sysinfo
from supportbox.clients.app import App
from supportbox.clients.console import Console
from supportbox.clients.link import Link, LinkFailed, first_server, live_urls


@dataclass
class Ticket:
    """Where and how to join: what the launcher or the key gives."""

    server: str
    lsid: str
    token: str


async def redeem(server: str, params: dict[str, str]) -> Ticket:
    """Ask the public site for a session: ``GET /api/start_session``."""
    query = {**params, "client": "cli"}
    url = server.rstrip("/") + "/api/start_session"
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.get(url, params=query)
    except httpx.HTTPError as exc:
        raise LinkFailed(f"cannot reach {server}: {exc}") from None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = body.get("error") if isinstance(body, dict) else None
        raise LinkFailed(detail or f"the server answered {response.status_code}")
    try:
        return Ticket(str(body.get("server") or server), body["lsid"], body["token"])
    except KeyError:
        raise LinkFailed("the server's answer has no lsid and token") from None


async def ticket_from_url(url: str) -> Ticket:
    """A key URL ``http(s)://host/?ak=...`` (or ``...?short_key=...``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LinkFailed(f"{url!r} is not an http(s) key URL")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    server = f"{parts.scheme}://{parts.netloc}"
    for name in ("ak", "short_key"):
        if name in query:
            return await redeem(server, {name: query[name]})
    raise LinkFailed("the URL carries no session key (ak=...)")


class Customer(App):
    def __init__(self, ticket: Ticket, console: Console, **kwargs: Any) -> None:
        self.ticket = ticket
        super().__init__(Link(live_urls(ticket.server), self.hello), console, **kwargs)
        self.reported = False
        self.ended = False

    def hello(self, link: Link) -> dict[str, Any]:
        return {
            "type": "hello",
            "v": 1,
            "role": "customer",
            "lsid": self.ticket.lsid,
            "token": link.resume_token or self.ticket.token,
            "last_seq": link.last_seq.get(self.ticket.lsid, 0),
            "client": {"hostname": socket.gethostname(), "os": platform.system()},
        }

    async def on_frame(self, frame: dict[str, Any]) -> None:
        self.console.frame(frame)
        kind = frame.get("type")
        if kind == "welcome" and not self.reported:
            self.reported = True
            self.console.say("* connected; type to chat, /quit to leave")
            categories = sysinfo.categories(first_server(self.ticket.server))
            await self.link.command("system_info", categories=categories)
        elif kind == "survey":
            self.ended = True
            await self.on_survey(frame)
        elif self.is_survey_reply(frame):
            self.finish()

    async def after_survey(self) -> None:
        self.finish()

    async def on_line(self, line: str) -> None:
        if line in ("/quit", "/leave"):
            await self.link.command("leave")
        else:
            await self.link.command("chat", body=line)

    async def on_end_of_input(self) -> None:
        if not self.ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.link.request("leave"), 10)
        self.finish()


async def run(
    ticket: Ticket, *, as_json: bool = False, answers: dict[str, str] | None = None
) -> int:
    console = Console(as_json)
    customer = Customer(ticket, console, lines=None, answers=answers)
    return await customer.run()


def main(
    ticket: Ticket | None,
    url: str | None,
    server: str | None,
    key: str | None,
    *,
    as_json: bool,
    answers: dict[str, str] | None,
) -> int:
    async def start() -> int:
        found = ticket
        if found is None and url:
            found = await ticket_from_url(url)
        if found is None and server and key:
            found = await redeem(first_server(server), {"short_key": key})
        if found is None:
            raise LinkFailed(
                "give --server with --lsid and --token, or --key, or a URL"
            )
        return await run(found, as_json=as_json, answers=answers)

    return asyncio.run(start())
