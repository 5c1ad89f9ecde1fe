"""``session_details/event`` elements from stored events (spec 5.3.1).

Stored shapes are those of docs/architecture.md, "Event data in storage".
"""

from __future__ import annotations

import base64
from typing import Any

from supportbox.xml.writer import E, xml_safe


def actor(tag: str, stored: dict[str, Any], with_gsnumber: bool = True) -> E:
    attrs: dict[str, str | int] = {"type": str(stored.get("type", "system"))}
    if with_gsnumber:
        attrs["gsnumber"] = int(stored.get("gsnumber", 0))
    return E(tag, str(stored.get("name", "")), attrs)


def body(text: str) -> E:
    """``body``, or ``encoded_body`` (base64) when XML cannot carry the text."""
    if xml_safe(text):
        return E("body", text)
    return E("encoded_body", base64.b64encode(text.encode()).decode())


def data(pairs: list[Any]) -> E:
    element = E("data")
    for name, value in pairs:
        element.add("value", short=True, name=str(name), value=str(value))
    return element


def system_information(categories: list[Any]) -> E:
    """The "System Information Retrieved" payload.

    Row fields carry both ``name`` and ``id``: current clients read
    ``name``, older RS integrations read ``id`` (spec 5.3.1).
    """
    root = E("system_information")
    for category in categories:
        element = root.add("category", name=str(category.get("name", "")))
        names = [str(n) for n in category.get("fields", [])]
        description = element.add("description")
        for name in names:
            description.add("field", name, name=name)
        rows = element.add("data")
        for values in category.get("rows", []):
            row = rows.add("row")
            for name, value in zip(names, values, strict=False):
                row.add(
                    "field", "" if value is None else str(value), name=name, id=name
                )
    return root


def event(row: Any, with_gsnumber: bool = True) -> E:
    """One ``<event>`` from a ``session_event`` row."""
    element = E(
        "event", None, {"timestamp": int(row.timestamp), "event_type": row.event_type}
    )
    children = element.children
    if row.performed_by:
        children.append(actor("performed_by", row.performed_by, with_gsnumber))
    if row.destination:
        children.append(actor("destination", row.destination, with_gsnumber))
    if row.body is not None:
        children.append(body(row.body))
    if row.filename is not None:
        children.append(E("filename", row.filename))
    if row.filesize is not None:
        children.append(E("filesize", row.filesize))
    if row.data:
        children.append(data(row.data))
    if row.system_information:
        children.append(system_information(row.system_information))
    return element
