"""Queues a waiting session can sit in: general, a rep's own, a team's."""

from __future__ import annotations

from dataclasses import dataclass

from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput

GENERAL = "general"
REP = "rep"
TEAM = "team"
KINDS = (GENERAL, REP, TEAM)


@dataclass(frozen=True)
class QueueRef:
    """A queue: ``kind`` is general, rep or team; ``ref`` the user or team id."""

    kind: str
    ref: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"queue kind {self.kind!r} is not general, rep or team")
        if (self.kind == GENERAL) != (self.ref is None):
            raise InvalidInput("only the general queue has no id")

    def __str__(self) -> str:
        return self.kind if self.ref is None else f"{self.kind}:{self.ref}"

    @classmethod
    def parse(cls, text: str) -> QueueRef:
        """``general``, ``rep:<id>`` or ``team:<id>``."""
        if text == GENERAL:
            return cls(GENERAL)
        kind, _, ref = text.partition(":")
        if kind not in (REP, TEAM) or not is_id(ref):
            raise InvalidInput(f"queue {text!r} is not general, rep:<id> or team:<id>")
        return cls(kind, int(ref))

    @property
    def channel(self) -> str:
        """The broker channel announcing changes to this queue."""
        return f"queue:{self}"
