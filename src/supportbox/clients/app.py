"""The loop both clients share: frames from the link, lines from the user."""

from __future__ import annotations

import asyncio
from typing import Any

from supportbox.clients.console import Console, Keyboard, ask, parse_json_line
from supportbox.clients.link import Link
from supportbox.errors import LinkFailed


class App:
    """Runs until :meth:`finish`; subclasses react to frames and lines."""

    def __init__(
        self,
        link: Link,
        console: Console,
        lines: asyncio.Queue[str | None] | None,
        answers: dict[str, str] | None,
    ) -> None:
        """``lines`` None means standard input, read once connected."""
        self.link = link
        self.console = console
        self.lines: asyncio.Queue[str | None] = lines or asyncio.Queue()
        self.from_stdin = lines is None
        self.keyboard = Keyboard(self.lines)
        self.answers = answers
        self.done = False
        self.survey: dict[str, Any] | None = None
        self.survey_answers: dict[str, str] = {}
        self.survey_ids: set[str] = set()

    async def run(self) -> int:
        runner = asyncio.create_task(self.link.run())
        frame_wait = asyncio.create_task(self.link.inbox.get())
        line_wait = asyncio.create_task(self.lines.get())
        try:
            while not self.done:
                ready, _ = await asyncio.wait(
                    {runner, frame_wait, line_wait},
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if frame_wait in ready:
                    frame = frame_wait.result()
                    if frame.get("type") == "welcome" and self.from_stdin:
                        self.from_stdin = False
                        self.keyboard.start()
                    await self.on_frame(frame)
                    frame_wait = asyncio.create_task(self.link.inbox.get())
                elif line_wait in ready:
                    line = line_wait.result()
                    line_wait = asyncio.create_task(self.lines.get())
                    await self._line(line)
                elif runner in ready:
                    runner.result()
                    return 0
        except LinkFailed as exc:
            if self.console.as_json:
                frame = {"type": "error", "code": "link", "message": str(exc)}
                self.console.frame(frame)
            raise
        finally:
            frame_wait.cancel()
            line_wait.cancel()
            await self.on_stop()
            await self.link.close()
            runner.cancel()
        return 0

    def finish(self) -> None:
        self.done = True

    async def _line(self, line: str | None) -> None:
        if line is None:
            await self.on_end_of_input()
            return
        # A line starting with "/" is always a command, never a survey
        # answer: the survey stays pending and is asked again afterwards.
        answering = not line.lstrip().startswith(("/", "{"))
        if self.survey is not None and not self.console.as_json and answering:
            await self._answer(line)
            return
        message = parse_json_line(line)
        if message is not None:
            kind = message.pop("type")
            message.pop("id", None)
            if await self.on_local(kind, message):
                return
            ident = await self.link.command(kind, **self.complete(kind, message))
            if kind == "survey":
                self.survey_ids.add(ident)
            return
        if line.strip():
            await self.on_line(line.strip())
        if self.survey is not None and not answering and not self.console.as_json:
            question = self.survey["questions"][len(self.survey_answers)]
            self.console.say(f"(the exit survey is still open) {ask(question)}")

    def complete(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Fill in what a JSON command left out (the current session)."""
        return fields

    # exit surveys

    async def on_survey(self, frame: dict[str, Any]) -> None:
        """Answer from ``--answer``, the terminal, or (``--json``) the script."""
        if self.answers is not None:
            await self.submit_survey(frame["lsid"], dict(self.answers))
            return
        if not frame["questions"]:
            await self.after_survey()
            return
        self.start_survey(frame)

    def start_survey(self, frame: dict[str, Any]) -> None:
        """Ask the questions of ``frame`` one by one at the terminal."""
        self.survey, self.survey_answers = frame, {}
        if not self.console.as_json:
            self.console.say(ask(frame["questions"][0]))

    async def _answer(self, line: str) -> None:
        assert self.survey is not None
        questions = self.survey["questions"]
        question = questions[len(self.survey_answers)]
        answer = choose(question, line)
        if answer is None:
            options = ", ".join(str(o) for o in question["options"])
            self.console.say(f"! please answer one of: {options}")
            self.console.say(ask(question))
            return
        self.survey_answers[question["name"]] = answer
        if len(self.survey_answers) < len(questions):
            self.console.say(ask(questions[len(self.survey_answers)]))
            return
        lsid = self.survey["lsid"]
        self.survey = None
        await self.submit_survey(lsid, self.survey_answers)

    async def submit_survey(self, lsid: str, answers: dict[str, str]) -> None:
        self.survey_ids.add(
            await self.link.command("survey", lsid=lsid, answers=answers)
        )

    def is_survey_reply(self, frame: dict[str, Any]) -> bool:
        return (
            frame.get("type") in ("ok", "error") and frame.get("re") in self.survey_ids
        )

    # for subclasses

    async def on_frame(self, frame: dict[str, Any]) -> None:
        raise NotImplementedError

    async def on_line(self, line: str) -> None:
        raise NotImplementedError

    async def on_local(self, kind: str, fields: dict[str, Any]) -> bool:
        """A JSON command this client does itself; ``False`` sends it on."""
        return False

    async def on_end_of_input(self) -> None:
        self.finish()

    async def on_stop(self) -> None:
        """The client is stopping, on any path (restore what was changed)."""
        return None

    async def after_survey(self) -> None:
        return None


def choose(question: dict[str, Any], line: str) -> str | None:
    """The answer ``line`` gives to ``question``, or ``None`` when it is no option."""
    answer = line.strip()
    options = [str(o) for o in question.get("options") or []]
    if not options:
        return answer
    for option in options:
        if option.lower() == answer.lower():
            return option
    return None
