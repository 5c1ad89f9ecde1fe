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
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)


def xml_safe(text: str) -> bool:
    """True when every character of ``text`` is allowed in XML 1.0."""
    return _INVALID.search(text) is None


# Most text needs no escaping at all; one search finds out (reports write
# millions of values, so the fast path matters).
_TEXT_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile(
    '[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]'
)


def escape_text(text: str) -> str:
    if _TEXT_SPECIAL.search(text) is None:
        return text
    return _INVALID.sub("", text).translate(_TEXT_ESCAPES)


def escape_attr(text: str) -> str:
    if _ATTR_SPECIAL.search(text) is None:
        return text
    return _INVALID.sub("", text).translate(_ATTR_ESCAPES)


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
    return "".join(f' {k}="{escape_attr(str(v))}"' for k, v in attrs.items())


def render(element: E, depth: int = 1) -> str:
    """``element`` as text, indented ``depth`` tabs, ending in a newline."""
    return "".join(_render(element, depth))


def _render(element: E, depth: int) -> Iterator[str]:
    indent = "\t" * depth
    head = f"{indent}<{element.tag}{_attrs(element.attrs)}"
    text = "" if element.text is None else escape_text(str(element.text))
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
