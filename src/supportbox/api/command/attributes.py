"""Custom attributes of a session: get/set_session_attributes (4.9, 4.10)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from supportbox.api.command.call import Call, success
from supportbox.api.command.custom import EXTERNAL_KEY, custom_values
from supportbox.api.command.registry import ADMIN, FULL, READ, action
from supportbox.directory import sites
from supportbox.errors import InvalidInput
from supportbox.xml.writer import E


def _values(call: Call) -> dict[str, str]:
    with call.runtime.db() as db:
        return custom_values(db, call.params)


@action("set_session_attributes", FULL, ADMIN)
async def set_session_attributes(call: Call) -> E:
    """Omitted attributes keep their value; an empty one is cleared."""
    lsid, _ = await call.open_session()
    values = await run_in_threadpool(_values, call)
    if not values:
        raise InvalidInput("no session.custom.<code_name> parameter was given")
    await call.hub.set_custom(lsid, values)
    return success("Session attributes were set")


def _attributes(call: Call, external_key: str, custom: dict[str, str]) -> E:
    root = E("custom_attributes")
    root.add(
        "custom_attribute",
        external_key,
        display_name="External Key",
        code_name=EXTERNAL_KEY,
    )
    with call.runtime.db() as db:
        fields = sites.custom_fields(db)
    for field in fields:
        value = custom.get(field.code_name, "")
        root.add(
            "custom_attribute",
            value,
            display_name=field.display_name,
            code_name=field.code_name,
        )
    # Values of fields deleted since they were set, under their code name.
    known = {f.code_name for f in fields}
    for name in sorted(set(custom) - known):
        root.add("custom_attribute", custom[name], display_name=name, code_name=name)
    return root


@action("get_session_attributes", READ, ADMIN)
async def get_session_attributes(call: Call) -> E:
    _, state = await call.open_session()
    return await run_in_threadpool(
        _attributes, call, state.external_key, dict(state.custom)
    )
