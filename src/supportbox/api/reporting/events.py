"""``session_details/event`` elements from stored events (spec 5.3.1).

Stored shapes are those of docs/architecture.md, "Event data in storage".
"""

from __future__ import annotations

import base64
import json
from typing import Any

from supportbox.xml.writer import (
    E,
    escape_attr,
    escape_carried,
    escape_text,
    render,
    xml_safe,
)


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


class EventWriter:
    """Writes ``<event>`` lines fast, for reports of many sessions.

    Event JSON columns arrive as stored text (see query.py). Actors and
    data lists repeat across a session's events, so each distinct stored
    text is decoded and rendered once and its XML kept in a bounded cache.
    """

    LIMIT = 20_000

    def __init__(self, depth: int) -> None:
        self.pad = "\t" * depth
        self.inner = "\t" * (depth + 1)
        self._caches: dict[str, dict[str, str]] = {
            tag: {}
            for tag in ("performed_by", "destination", "data", "system_information")
        }
        self._kinds: dict[str, str] = {}
        self._by = self._caches["performed_by"]
        self._to = self._caches["destination"]

    def _cached(self, tag: str, raw: str) -> str:
        cache = self._caches[tag]
        found = cache.get(raw)
        if found is None:
            if len(cache) > self.LIMIT:
                cache.clear()
            value = json.loads(raw)
            if tag == "data":
                element = data(value)
            elif tag == "system_information":
                element = system_information(value)
            else:
                element = actor(tag, value)
            found = cache[raw] = render(element, len(self.inner))
        return found

    def events(self, rows: list[Any]) -> str:
        """The ``<event>`` lines of ``rows``, tuples of the events query of
        query.py in its order."""
        pad, inner = self.pad, self.inner
        kinds, by_cache, to_cache = self._kinds, self._by, self._to
        out = []
        for _sid, at, kind, by, to, text, filename, size, pairs, info in rows:
            kind_attr = kinds.get(kind)
            if kind_attr is None:
                if len(kinds) > self.LIMIT:
                    kinds.clear()
                kind_attr = kinds[kind] = escape_attr(kind)
            head = f'{pad}<event timestamp="{int(at)}" event_type="{kind_attr}">'
            lines = ""
            if by and by != "null":
                lines = by_cache.get(by) or self._cached("performed_by", by)
            if to and to != "null":
                lines += to_cache.get(to) or self._cached("destination", to)
            if text is not None:
                escaped = escape_carried(text)
                if escaped is not None:
                    lines += f"{inner}<body>{escaped}</body>\n"
                else:
                    lines += render(body(text), len(inner))
            if filename is not None:
                lines += f"{inner}<filename>{escape_text(filename)}</filename>\n"
            if size is not None:
                lines += f"{inner}<filesize>{int(size)}</filesize>\n"
            if pairs and pairs != "[]":
                lines += self._cached("data", pairs)
            if info and info != "null":
                lines += self._cached("system_information", info)
            if lines:
                out.append(f"{head}\n{lines}{pad}</event>\n")
            else:
                out.append(f"{head}</event>\n")
        return "".join(out)
