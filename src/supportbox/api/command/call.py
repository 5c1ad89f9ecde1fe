"""One Command API call: its parameters, caller and the helpers actions share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from supportbox.api.auth import Principal
from supportbox.api.params import Params
from supportbox.core.hub import Hub
from supportbox.core.session import SessionState
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput, SessionStateError
from supportbox.runtime import Runtime
from supportbox.xml.writer import E

_LSID = re.compile(r"[0-9a-fA-F]{32}")
_MAX_ID = 2_147_483_647


def iso(timestamp: float) -> str:
    """``2024-12-03T15:26:05+00:00``: UTC, no fraction (client-expectations 1.4)."""
    moment = datetime.fromtimestamp(int(timestamp), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def success(message: str) -> E:
    return E("success", message)


@dataclass
class Call:
    """What an action gets: the runtime, the caller, the parameters."""

    runtime: Runtime
    principal: Principal
    params: Params

    @property
    def hub(self) -> Hub:
        hub: Hub = self.runtime.services["hub"]
        return hub

    def text(self, name: str, *, limit: int = 1024, default: str | None = None) -> str:
        """A parameter's value; without ``default`` it is required."""
        value = self.params.get(name)
        if value is None or (value == "" and default is None):
            if default is not None:
                return default
            raise InvalidInput(f"parameter {name} is required")
        if len(value) > limit:
            raise InvalidInput(f"parameter {name} is longer than {limit} characters")
        return value

    def integer(self, name: str, *, default: int | None = None) -> int:
        raw = self.params.get(name, "")
        if raw == "" and default is not None:
            return default
        if not raw:
            raise InvalidInput(f"parameter {name} is required")
        if not is_id(raw) or not 0 < int(raw) <= _MAX_ID:
            raise InvalidInput(f"parameter {name} must be a positive whole number")
        return int(raw)

    def flag(self, name: str) -> bool:
        """Present as ``name``, ``name=`` or ``name=1``; off when absent or 0."""
        value = self.params.get(name)
        return value is not None and value.strip() not in {"0", "false"}

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.params.get(name) or default
        if not value:
            raise InvalidInput(f"parameter {name} is required")
        if value not in allowed:
            raise InvalidInput(f"{name} {value!r} is not one of {', '.join(allowed)}")
        return value

    def lsid(self) -> str:
        lsid = self.text("lsid", limit=64)
        if not _LSID.fullmatch(lsid):
            raise InvalidInput(f"lsid {lsid!r} is not a session id (32 hex digits)")
        return lsid.lower()

    async def open_session(self) -> tuple[str, SessionState]:
        """The ``lsid`` parameter's session, which must not have ended."""
        lsid = self.lsid()
        state = await self.hub.state(lsid)
        if state.status == "ended":
            raise SessionStateError(f"session {lsid} has ended")
        return lsid, state
