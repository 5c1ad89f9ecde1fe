"""The XSDs of the XML APIs, in the namespace the server is set to emit.

Each schema file is written for the bomgar namespace family; serving it
for another family swaps the target namespace, and for ``none`` removes
it, so the schema always describes the documents actually sent.
"""

from __future__ import annotations

from importlib import resources

BOMGAR = "http://www.bomgar.com/namespaces/API/{api}"


def load(api: str, namespace: str) -> str:
    """``<api>.xsd`` with its target namespace set to ``namespace``."""
    text = resources.files("supportbox.xml").joinpath(f"{api}.xsd").read_text("utf-8")
    written = BOMGAR.format(api=api)
    if namespace:
        return text.replace(written, namespace)
    return text.replace(f' targetNamespace="{written}"', "").replace(
        f' xmlns="{written}"', ""
    )
