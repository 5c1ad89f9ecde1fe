"""The actions of the Command API and who may call them (spec 2.1, 2.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from supportbox.api.auth import ACCOUNT, Principal
from supportbox.xml.writer import E

#: API account levels: ``any`` (even ``deny``), ``read`` (read_only or
#: full_access), ``full`` (full_access only).
ANY, READ, FULL = "any", "read", "full"
#: What a legacy user needs beyond perm_api: nothing, support, admin.
API, SUPPORT, ADMIN = "api", "support", "admin"


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[..., Awaitable[E]]
    access: str
    legacy: str


ACTIONS: dict[str, Action] = {}


def action(
    name: str, access: str, legacy: str = API
) -> Callable[[Callable[..., Awaitable[E]]], Callable[..., Awaitable[E]]]:
    """Register the decorated coroutine as the action ``name``."""

    def register(run: Callable[..., Awaitable[E]]) -> Callable[..., Awaitable[E]]:
        ACTIONS[name] = Action(name, run, access, legacy)
        return run

    return register


def refusal(action: Action, principal: Principal) -> str | None:
    """Why ``principal`` may not run ``action``, or ``None`` if it may."""
    if principal.kind != ACCOUNT:
        if action.legacy == API or action.legacy in principal.roles:
            return None
        right = "administrator" if action.legacy == ADMIN else "support"
        return f"user {principal.name!r} needs the {right} permission for {action.name}"

    level = principal.command_level
    if action.access == ANY:
        return None
    if action.access == READ and level in {"read_only", "full_access"}:
        return None
    if action.access == FULL and level == "full_access":
        return None
    need = "full_access" if action.access == FULL else "read_only or full_access"
    return (
        f"API account {principal.name!r} has command access {level}; "
        f"{action.name} needs {need}"
    )
