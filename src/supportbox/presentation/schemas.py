"""The fields of the presentation messages (docs/protocol.md, "Presentations").

Kept apart from the handlers so that :mod:`supportbox.live.protocol` can
validate them without importing the presentation service.
"""

from __future__ import annotations

PRESENTATION_SCHEMAS: dict[str, dict[str, tuple[str, bool]]] = {
    "present_start": {},
    "present_stop": {"lsid": ("str", True)},
}
