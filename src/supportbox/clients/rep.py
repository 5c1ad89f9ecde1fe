"""``supportbox rep``: a representative's queues and sessions in a terminal."""

from __future__ import annotations

import platform
import socket
from typing import Any

from supportbox import tuning
from supportbox.clients.app import App, choose
from supportbox.clients.console import Console, ask
from supportbox.clients.link import Link, live_urls
from supportbox.clients.rep_files import Files
from supportbox.clients.rep_screen import ScreenViewer
from supportbox.clients.rep_shell import Shells
from supportbox.streams import frames

HELP = """commands (the current session is the last one joined):
  /queues               list waiting sessions
  /accept [LSID]        take the next waiting session, or LSID
  /join LSID            join a session you were invited to
  /sessions             your sessions;  /switch LSID  to change the current one
  /key VALUE            set the external key
  /note TEXT            add a session note
  /transfer QUEUE       general, rep:<user id> or team:<team id>
  /invite USERNAME      invite another representative
  /leave  /end          leave the session / end it for everyone
  /survey [NAME=VALUE ..] answer the exit survey of the session that ended
  /shell                open a command shell on the customer's computer
                        (Ctrl-] leaves it and closes it)
  /send LOCAL REMOTE    send a file into the customer's allowed folder
  /fetch REMOTE [LOCAL] fetch a file from the customer's allowed folder
  /screen [watch|stop]  ask to see the customer's screen / watch the one
                        already shared / stop seeing it
  /screenshot FILE.png  save the shared screen as it is now
  /control  /release    ask to control the shared screen / give control back
  /quit                 log out
  anything else         chat in the current session"""

#: Commands whose JSON form takes the current session when it names none.
SESSION_COMMANDS = frozenset(
    {
        "chat",
        "external_key",
        "note",
        "transfer",
        "invite",
        "leave",
        "end",
        "survey",
        "shell_open",
        "file_send",
        "file_fetch",
        "screen_open",
        "screen_watch",
    }
)


class Rep(ScreenViewer, Shells, Files, App):
    def __init__(
        self, server: str, username: str, password: str, console: Console, **kw: Any
    ) -> None:
        super().__init__(Link(live_urls(server), self.hello), console, **kw)
        self.link.relogin = True
        self.link.on_data = self.on_data
        self.link.tap = self.on_tap
        self.username, self.password = username, password
        self.sessions: list[str] = []
        self.current: str | None = None
        self.last_left: str | None = None
        #: Exit surveys waiting for ``/survey``, by session.
        self.unanswered: dict[str, dict[str, Any]] = {}
        #: What to say when a command's ``ok`` comes, by command id.
        self.confirm: dict[str, str] = {}

    def hello(self, link: Link) -> dict[str, Any]:
        hello: dict[str, Any] = {
            "type": "hello",
            "v": 1,
            "role": "representative",
            "client": {"hostname": socket.gethostname(), "os": platform.system()},
        }
        # What was seen of each session, so a resume (or a fresh login on
        # another node) sends only what was missed.
        hello["sessions"] = {lsid: link.last_seq.get(lsid, 0) for lsid in self.sessions}
        if link.resume_token:
            hello["resume_token"] = link.resume_token
        else:
            hello["username"], hello["password"] = self.username, self.password
        return hello

    async def on_frame(self, frame: dict[str, Any]) -> None:
        self.console.frame(frame)
        await self.shell_frame(frame)
        kind = frame.get("type")
        if kind == "welcome" and frame.get("sessions") is not None:
            self.console.say(
                f"* logged in as {frame['user']['name']}; /help for commands"
            )
        elif kind == "joined":
            if frame["lsid"] not in self.sessions:
                self.sessions.append(frame["lsid"])
            self.current = frame["lsid"]
            self.console.say(f"* in session {frame['lsid']} (current)")
        elif kind == "left":
            if frame["lsid"] in self.sessions:
                self.sessions.remove(frame["lsid"])
            self.last_left = frame["lsid"]
            self.current = self.sessions[-1] if self.sessions else None
        elif kind == "survey":
            await self.on_survey(frame)
        elif kind == "ok" and self.is_survey_reply(frame):
            self.console.say("* exit survey saved")
        elif kind in ("ok", "error") and frame.get("re") in self.confirm:
            done = self.confirm.pop(frame["re"])
            if kind == "ok":
                self.console.say(done)
        elif kind == "ok" and "waiting" in frame:
            self.console.frame({"type": "queues", **frame})

    def complete(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        if kind in SESSION_COMMANDS and "lsid" not in fields:
            lsid = self.last_left if kind == "survey" else self.current
            if lsid:
                fields["lsid"] = lsid
        return fields

    async def on_line(self, line: str) -> None:
        if not line.startswith("/"):
            await self._in_session("chat", body=line)
            return
        name, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        if name == "help":
            self.console.say(HELP)
        elif name == "quit":
            self.finish()
        elif name == "queues":
            await self.link.command("queues")
        elif name == "accept":
            await self.link.command("accept", **({"lsid": rest} if rest else {}))
        elif name == "join" and rest:
            await self.link.command("join", lsid=rest)
        elif name == "sessions":
            self.console.say(f"* sessions: {', '.join(self.sessions) or 'none'}")
        elif name == "switch" and rest in self.sessions:
            self.current = rest
        elif name == "key":
            ident = await self._in_session("external_key", external_key=rest)
            if ident is not None:
                self.confirm[ident] = f"* external key set to {rest!r}"
        elif name == "note" and rest:
            await self._in_session("note", body=rest)
        elif name == "transfer" and rest:
            await self._in_session("transfer", to=rest)
        elif name == "invite" and rest:
            await self._in_session("invite", username=rest)
        elif name in ("leave", "end"):
            await self._in_session(name)
        elif name == "shell":
            await self.open_shell()
        elif name == "send" and len(rest.split()) == 2:
            await self.send_file(*rest.split())
        elif name == "fetch" and 1 <= len(rest.split()) <= 2:
            remote, *local = rest.split()
            await self.fetch_file(remote, local[0] if local else ".")
        elif name == "screen":
            await self.screen_command(rest)
        elif name == "screenshot" and rest:
            await self.screenshot(rest)
        elif name in ("control", "release"):
            await self.control_command(release=name == "release")
        elif name == "survey":
            await self.survey_command(rest)
        else:
            self.console.say(f"! cannot do {line!r}; /help lists the commands")

    async def on_survey(self, frame: dict[str, Any]) -> None:
        """Ask at once only when nothing else is going on; else say how to answer.

        While the rep works in other sessions, a survey asked in the middle
        would take the lines meant for them.
        """
        busy = self.sessions or self.survey is not None
        if self.answers is None and not self.console.as_json and frame["questions"]:
            self.unanswered[frame["lsid"]] = frame
            if busy:
                self.console.say(
                    f"* session {frame['lsid']} ended: type /survey to answer"
                    " its exit survey"
                )
                return
            self.unanswered.pop(frame["lsid"])
        await super().on_survey(frame)

    async def survey_command(self, rest: str) -> None:
        """``/survey`` asks the questions; ``/survey NAME=VALUE ..`` answers."""
        if not rest:
            if self.survey is not None:
                question = self.survey["questions"][len(self.survey_answers)]
                self.console.say(ask(question))
            elif self.unanswered:
                self.start_survey(self.unanswered.pop(next(reversed(self.unanswered))))
            else:
                self.console.say("! no exit survey is waiting for an answer")
            return
        lsid = next(reversed(self.unanswered), None) or self.last_left
        if lsid is None:
            self.console.say("! no exit survey is waiting for an answer")
            return
        answers = {k: v for k, _, v in (p.partition("=") for p in rest.split())}
        frame = self.unanswered.get(lsid)
        for question in frame["questions"] if frame else []:
            given = answers.get(question["name"])
            if given is None:
                continue
            chosen = choose(question, given)
            if chosen is None:
                options = ", ".join(str(o) for o in question["options"])
                self.console.say(f"! {question['name']} must be one of: {options}")
                return
            answers[question["name"]] = chosen
        self.unanswered.pop(lsid, None)
        await self.submit_survey(lsid, answers)

    async def _in_session(self, kind: str, **fields: Any) -> str | None:
        """Send ``kind`` for the current session; the command's id."""
        if self.current is None:
            self.console.say("! you are in no session; /accept one first")
            return None
        return await self.link.command(kind, lsid=self.current, **fields)

    def session(self) -> str | None:
        if self.current is None:
            self.console.say("! you are in no session; /accept one first")
        return self.current

    async def on_tap(self, frame: dict[str, Any]) -> bool:
        # Transfers follow their frames in the order they came with the data.
        await self.file_frame(frame)
        await self.screen_frame(frame)
        return False

    async def on_data(self, frame: bytes) -> None:
        number, _chunk, data = frames.decode(frame)
        if await self.screen_data(number, data):
            return
        if not self.file_data(number, data):
            self.shell_data(number, data)

    async def on_local(self, kind: str, fields: dict[str, Any]) -> bool:
        if kind == "shell_input":
            await self.shell_input(fields)
            return True
        if kind == "screenshot" and "path" in fields:
            await self.screenshot(str(fields["path"]))
            return True
        return False

    async def on_stop(self) -> None:
        self.detach()


async def run(
    server: str,
    username: str,
    password: str,
    *,
    as_json: bool = False,
    answers: dict[str, str] | None = None,
) -> int:
    rep = Rep(
        server,
        username,
        password,
        Console(as_json),
        lines=None,
        answers=answers,
    )
    return await rep.run()


def main(server: str, username: str, password: str, **kwargs: Any) -> int:
    return tuning.run(lambda: run(server, username, password, **kwargs))
