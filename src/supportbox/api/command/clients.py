"""Connected clients: get_connected_client_list, get_connected_clients (4.13, 4.14).

Only representative consoles and support customers exist here; the other
types of the appliance are accepted and always count zero.
"""

from __future__ import annotations

from supportbox.api.command.call import Call, iso
from supportbox.api.command.registry import READ, action
from supportbox.core.presence import ConnectedClient
from supportbox.errors import InvalidInput
from supportbox.xml.writer import E

TYPES = ("representative", "support_customer", "presentation_attendee", "push_agent")
MAX_IDS = 100


def _types(call: Call) -> list[str]:
    raw = call.params.get("type", "") or "all"
    names = [t.strip() for t in raw.split(",") if t.strip()]
    for name in names:
        if name != "all" and name not in TYPES:
            raise InvalidInput(f"type {name!r} is not all or one of {', '.join(TYPES)}")
    return list(TYPES) if "all" in names else names


def _clients(call: Call, types: list[str]) -> list[ConnectedClient]:
    clients = sorted(call.hub.connected_clients(), key=lambda c: c.connected_since)
    return [c for c in clients if c.type in types]


@action("get_connected_client_list", READ)
async def get_connected_client_list(call: Call) -> E:
    types = _types(call)
    clients = _clients(call, types)

    root = E("connected_client_list")
    summary = root.add("connected_client_summary")
    appliance = summary.add("appliance_summary", id=call.runtime.appliance_id)
    for kind in (*TYPES, "pinned_client"):
        if kind in types or kind == "pinned_client":
            count = sum(1 for c in clients if c.type == kind)
            appliance.add("count", count, type=kind)
    if not call.flag("summary_only"):
        for client in clients:
            root.add("connected_client", short=True, type=client.type, id=client.id)
    return root


@action("get_connected_clients", READ)
async def get_connected_clients(call: Call) -> E:
    types = _types(call)
    wanted = [i.strip() for i in call.params.get("id", "").split(",") if i.strip()]
    if len(wanted) > MAX_IDS:
        raise InvalidInput(f"id names more than {MAX_IDS} clients")
    clients = _clients(call, types)
    if wanted:
        by_id = {c.id: c for c in clients}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise InvalidInput(f"no connected client with id {missing[0]!r}")
        clients = [by_id[i] for i in wanted]

    root = E("connected_clients")
    for client in clients:
        item = root.add(f"connected_{client.type}", id=client.id)
        item.add("hostname", client.hostname)
        item.add("platform", client.os)
        item.add("public_ip", client.public_ip)
        since = client.connected_since
        item.add("connected_since", iso(since), timestamp=int(since))
        if call.flag("include_connections"):
            connections = item.add("client_connections")
            if client.lsid:
                connections.add("support_session", short=True, lsid=client.lsid)
    return root
