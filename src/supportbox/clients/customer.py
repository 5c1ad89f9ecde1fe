"""``supportbox customer``: the customer's side of a support session."""

from __future__ import annotations

import asyncio
import contextlib
import platform
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from supportbox import tuning
from supportbox.clients import sysinfo
from supportbox.clients.app import App
from supportbox.clients.console import Console
from supportbox.clients.link import Link, first_server, live_urls
from supportbox.errors import LinkFailed
from supportbox.remote.agent import CustomerAgent
from supportbox.screen.agent import ScreenAgent


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


def default_files_dir() -> Path:
    """Where transfers go without ``--files-dir``: ``~/Downloads/supportbox``."""
    return Path.home() / "Downloads" / "supportbox"


@dataclass(frozen=True)
class Consent:
    """What the customer allows without being asked, and where files go."""

    allow: frozenset[str] = frozenset()
    files_dir: Path | None = None


class Customer(App):
    def __init__(
        self,
        ticket: Ticket,
        console: Console,
        consent: Consent = Consent(),
        **kwargs: Any,
    ) -> None:
        self.ticket = ticket
        super().__init__(Link(live_urls(ticket.server), self.hello), console, **kwargs)
        self.reported = False
        self.ended = False
        #: Channels the server no longer knew (said once each).
        self.gone: set[int] = set()
        # Asked in the terminal; a script (--json) has only what --allow says.
        self.agent = CustomerAgent(
            self._send_json,
            self._send_bytes,
            allow=consent.allow,
            files_dir=consent.files_dir,
            ask=None if console.as_json else self.ask,
        )
        self.screen = ScreenAgent(
            self._send_json,
            self._send_bytes,
            allow=consent.allow,
            ask=None if console.as_json else self.ask,
            notify=self._control_indicator,
        )
        self.link.on_data = self.agent.data
        self.link.tap = self._tap
        self._asking = asyncio.Lock()
        self._reply: asyncio.Future[bool] | None = None

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
        kind = frame.get("type")
        gone = gone_channel(frame)
        if gone is not None and not self.console.as_json:
            await self._channel_gone(gone)
            return
        self.console.frame(frame)
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

    async def _channel_gone(self, number: int) -> None:
        """The server no longer knows a channel this client still used.

        That happens when the representative went away during a shell: the
        output sent meanwhile finds no channel. Said once, in words.
        """
        if number in self.gone:
            return
        self.gone.add(number)
        shell = number in self.agent.shells
        await self.agent.handle({"type": "shell_closed", "channel": number})
        what = "shell" if shell else "shell or file transfer"
        self.console.say(f"* the representative's {what} closed")

    async def on_line(self, line: str) -> None:
        if self._reply is not None and not self._reply.done():
            self._reply.set_result(line.lower() in ("y", "yes"))
        elif line in ("/quit", "/leave") and self.ended:
            self.finish()  # the session is over; only its survey was left
        elif line in ("/quit", "/leave"):
            await self.link.command("leave")
        elif line == "/revoke":
            await self.revoke()
        elif line == "/unshare":
            await self.screen.stop()
        else:
            await self.link.command("chat", body=line)

    async def on_local(self, kind: str, fields: dict[str, Any]) -> bool:
        if kind == "revoke":
            await self.revoke()
            return True
        if kind == "unshare":
            await self.screen.stop()
            return True
        return False

    async def on_stop(self) -> None:
        await self.screen.close()
        await self.agent.close()

    # shells and files

    async def _tap(self, frame: dict[str, Any]) -> bool:
        """Requests for the agent, handled in order with the binary frames."""
        kind = str(frame.get("type"))
        if ScreenAgent.handles(kind):
            if kind != "screen_ack":
                self.console.frame(frame)
            await self.screen.handle(frame)
            return True
        if not CustomerAgent.handles(kind):
            return False
        self.console.frame(frame)
        await self.agent.handle(frame)
        return True

    def _control_indicator(self, line: str) -> None:
        """Says, in the terminal, when remote control starts and ends."""
        if self.console.as_json:
            state = "active" if self.screen.controlled else "ended"
            self.console.frame({"type": "control", "state": state})
        else:
            self.console.say(line)

    async def _send_json(self, frame: dict[str, Any]) -> None:
        fields = {k: v for k, v in frame.items() if k != "type"}
        await self.link.command(frame["type"], **fields)

    async def _send_bytes(self, frame: bytes) -> None:
        # Lost with a dropped connection, which closes its channels anyway.
        with contextlib.suppress(LinkFailed):
            await self.link.send_bytes(frame)

    async def ask(self, question: str) -> bool:
        """Ask the person at the terminal; one question at a time."""
        async with self._asking:
            self._reply = asyncio.get_running_loop().create_future()
            self.console.say(f"? {question} [y/n]")
            try:
                return await self._reply
            finally:
                self._reply = None

    async def revoke(self) -> None:
        # Control first: it is what acts on the screen right now.
        controls = await self.screen.revoke()
        count = await self.agent.revoke()
        if self.console.as_json:
            self.console.frame(
                {"type": "revoked", "shells": count, "control": controls}
            )
        else:
            self.console.say(f"* closed {count} shell(s), ended {controls} control(s)")

    async def on_end_of_input(self) -> None:
        if not self.ended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.link.request("leave"), 10)
        self.finish()


async def run(
    ticket: Ticket,
    *,
    as_json: bool = False,
    answers: dict[str, str] | None = None,
    consent: Consent | None = None,
) -> int:
    console = Console(as_json)
    customer = Customer(
        ticket, console, consent or Consent(), lines=None, answers=answers
    )
    return await customer.run()


def main(
    ticket: Ticket | None,
    url: str | None,
    server: str | None,
    key: str | None,
    *,
    as_json: bool,
    answers: dict[str, str] | None,
    consent: Consent | None = None,
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
        return await run(found, as_json=as_json, answers=answers, consent=consent)

    return tuning.run(start)


def gone_channel(frame: dict[str, Any]) -> int | None:
    """The channel number of a server's "no channel N" error, else ``None``."""
    if frame.get("type") != "error" or frame.get("code") != "not_found":
        return None
    found = re.fullmatch(r"no channel (\d+)", str(frame.get("message", "")))
    return int(found.group(1)) if found else None
