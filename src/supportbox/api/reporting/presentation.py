"""PresentationSession and PresentationSessionListing (spec 5.7).

supportbox does not host presentations yet, so both reports are the empty
lists a real appliance returns for a window without presentations. The
parameters are still checked, so a wrong call gets the same ``<error>``
it would get from an appliance.
"""

from __future__ import annotations

from collections.abc import Iterator

from supportbox.api.reporting.context import ReportContext, Stream
from supportbox.xml.writer import close_root, open_root


def _empty(root: str, namespace: str) -> Iterator[str]:
    yield open_root(root, namespace)
    yield close_root(root)


def presentation_session(ctx: ReportContext) -> Stream:
    if ctx.lsids() is None:
        ctx.window()
    return Stream(_empty("presentation_session_list", ctx.namespace))


def presentation_session_listing(ctx: ReportContext) -> Stream:
    ctx.window()
    return Stream(_empty("presentation_session_summary_list", ctx.namespace))
