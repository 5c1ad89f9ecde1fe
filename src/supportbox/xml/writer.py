"""Writes XML in the byte shape of the appliance (spec 1.3).

A document is the declaration, one blank line, the root element with its
default namespace, then one element per line indented with tabs::

    <?xml version="1.0" encoding="UTF-8"?>

    <root xmlns="http://www.bomgar.com/namespaces/API/command">
    \t<child attr="1">text</child>
    </root>

Elements are plain :class:`E` trees. Large reports are streamed: render
the root's opening with :func:`open_root`, each child with :func:`render`
as it is built, and close with :func:`close_root`. Any text is escaped,
and characters XML 1.0 cannot carry are dropped, so no user text can make
a document malformed (use :func:`xml_safe` to choose ``encoded_body``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n\n'
CONTENT_TYPE = "text/xml; charset=UTF-8"

_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> bool:
    """True when every character of ``text`` is allowed in XML 1.0."""
    return _INVALID.search(text) is None


# Most text needs no escaping at all; one search finds out (reports write
# millions of values, so the fast path matters).
_TEXT_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile(
    '[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]'
)


def _valid(text: str) -> str:
    return text if _INVALID.search(text) is None else _INVALID.sub("", text)


# str.replace chains are several times faster than str.translate with a
# mapping; "&" goes first so that no escape is escaped again.
def escape_text(text: str) -> str:
    if _TEXT_SPECIAL.search(text) is None:
        return text
    text = _valid(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_carried(text: str) -> str | None:
    """``text`` escaped, or ``None`` when it holds characters XML cannot carry."""
    if _TEXT_SPECIAL.search(text) is None:
        return text
    if _INVALID.search(text) is not None:
        return None
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    if _ATTR_SPECIAL.search(text) is None:
        return text
    text = _valid(text).replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace(">", "&gt;").replace('"', "&quot;").replace("\n", "&#10;")
    return text.replace("\r", "&#13;").replace("\t", "&#9;")


def text_of(value: object) -> str:
    """Element text as :class:`E` writes it: ``None`` is empty, the rest escaped."""
    if value is None:
        return ""
    return escape_text(value if isinstance(value, str) else str(value))


def attr_of(value: object) -> str:
    """An attribute value as :class:`E` writes it (``str()``, then escaped)."""
    return escape_attr(value if isinstance(value, str) else str(value))


@dataclass
class E:
    """One element: tag, attributes in order, text, children.

    ``short=True`` renders an empty element as ``<tag a="b" />``; otherwise
    an empty element is ``<tag></tag>``, as the appliance writes them.
    """

    tag: str
    text: str | int | None = None
    attrs: dict[str, str | int] = field(default_factory=dict)
    children: list[E] = field(default_factory=list)
    short: bool = False

    def add(
        self,
        tag: str,
        text: str | int | None = None,
        /,
        short: bool = False,
        **attrs: str | int,
    ) -> E:
        """Append a child and return it."""
        child = E(tag, text, dict(attrs), short=short)
        self.children.append(child)
        return child

    def extend(self, children: Iterable[E]) -> E:
        self.children.extend(children)
        return self


def _attrs(attrs: dict[str, str | int]) -> str:
    return "".join(f' {k}="{attr_of(v)}"' for k, v in attrs.items())


def render(element: E, depth: int = 1) -> str:
    """``element`` as text, indented ``depth`` tabs, ending in a newline."""
    return "".join(_render(element, depth))


def _render(element: E, depth: int) -> Iterator[str]:
    indent = "\t" * depth
    head = f"{indent}<{element.tag}{_attrs(element.attrs)}"
    text = text_of(element.text)
    if not element.children:
        if element.short and not text:
            yield f"{head} />\n"
        else:
            yield f"{head}>{text}</{element.tag}>\n"
        return
    yield f"{head}>{text}\n"
    for child in element.children:
        yield from _render(child, depth + 1)
    yield f"{indent}</{element.tag}>\n"


def open_root(tag: str, namespace: str, **attrs: str) -> str:
    """The declaration and the root's opening tag, namespace first."""
    all_attrs: dict[str, str | int] = {}
    if namespace:
        all_attrs["xmlns"] = namespace
    all_attrs.update(attrs)
    return f"{DECLARATION}<{tag}{_attrs(all_attrs)}>\n"


def close_root(tag: str) -> str:
    return f"</{tag}>\n"


def document(root: E, namespace: str) -> str:
    """A whole document whose root is ``root``, in the default namespace."""
    attrs: dict[str, str | int] = {}
    if namespace:
        attrs["xmlns"] = namespace
    attrs.update(root.attrs)
    shell = E(root.tag, root.text, attrs, root.children, root.short)
    return DECLARATION + render(shell, 0)


def error_document(message: str, namespace: str) -> str:
    """``<error xmlns="...">message</error>`` as a whole document."""
    return document(E("error", message), namespace)


def success_document(message: str, namespace: str) -> str:
    return document(E("success", message), namespace)
