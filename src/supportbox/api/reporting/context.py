"""What every report receives, and what it hands back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.api.reporting import window
from supportbox.api.reporting.links import LinkMaker
from supportbox.errors import InvalidInput
from supportbox.settings import Settings
from supportbox.storage.models import CustomField, PublicSite
from supportbox.xml.writer import CONTENT_TYPE

_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass
class ReportContext:
    """One report run: its database session, parameters and settings.

    ``db`` stays open (one read transaction) until the report's stream is
    exhausted or closed; the caller owns it.
    """

    db: Session
    params: Mapping[str, str]
    settings: Settings
    links: LinkMaker
    now: float = field(default_factory=time.time)

    @property
    def namespace(self) -> str:
        return self.settings.namespace("reporting")

    def param(self, name: str) -> str:
        return self.params.get(name, "").strip()

    def window(self, allowed: tuple[str, ...] = ("start", "end")) -> window.Window:
        return window.parse(
            self.params, self.settings.report_timezone, lambda: self.now, allowed
        )

    def lsids(self) -> tuple[str, ...] | None:
        """The ``lsid`` / ``lsids`` parameters, validated, or ``None``."""
        raw = [self.param("lsid"), *self.param("lsids").split(",")]
        lsids = tuple(dict.fromkeys(x.strip().lower() for x in raw if x.strip()))
        if not lsids and "lsid" not in self.params and "lsids" not in self.params:
            return None
        for lsid in lsids:
            if len(lsid) != 32 or not _HEX.issuperset(lsid):
                raise InvalidInput(f"Invalid lsid: {lsid[:64]!r}.")
        if not lsids:
            raise InvalidInput("Invalid lsid: the parameter is empty.")
        return lsids

    def site_names(self) -> dict[int, str]:
        return {
            k: v for k, v in self.db.execute(select(PublicSite.id, PublicSite.name))
        }

    def custom_fields(self) -> list[tuple[str, str]]:
        """``(code_name, display_name)`` in definition order."""
        query = select(CustomField.code_name, CustomField.display_name).order_by(
            CustomField.id
        )
        return [(code, name) for code, name in self.db.execute(query)]


@dataclass
class Stream:
    """A streamed body: XML by default."""

    chunks: Iterator[str | bytes]
    media_type: str = CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FileBody:
    """A file sent as it is on disk (recordings)."""

    path: Path
    media_type: str
    filename: str


Output = Stream | FileBody

#: A report: checks its parameters eagerly, then hands back its body.
Builder = Callable[[ReportContext], Output]
