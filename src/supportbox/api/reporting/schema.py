"""``reporting.xsd``, with the namespace this server is configured for."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SCHEMA = Path(__file__).parent.parent.parent / "xml" / "reporting.xsd"
SCHEMA_NAMESPACE = "http://www.bomgar.com/namespaces/API/reporting"


@cache
def schema_text(namespace: str) -> str:
    """The XSD with ``namespace`` (empty: no target namespace)."""
    text = SCHEMA.read_text()
    if namespace:
        return text.replace(SCHEMA_NAMESPACE, namespace)
    text = text.replace(f'targetNamespace="{SCHEMA_NAMESPACE}"', "")
    return text.replace(f'xmlns="{SCHEMA_NAMESPACE}"', "")
