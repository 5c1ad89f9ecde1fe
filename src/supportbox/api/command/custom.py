"""``session.custom.<code_name>`` parameters (spec 3.2, 4.3, 4.9)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from supportbox.api.params import Params
from supportbox.core.session import check_custom
from supportbox.directory import sites
from supportbox.errors import InvalidInput, NotFound

PREFIX = "session.custom."
EXTERNAL_KEY = "external_key"


def custom_values(
    db: Session, params: Params, *, legacy_external_key: bool = False
) -> dict[str, str]:
    """The custom attributes a request sets, ``external_key`` among them.

    Only configured custom fields are accepted; each value may have 1024
    characters and all of them together 10 KB. With
    ``legacy_external_key`` a bare ``external_key`` parameter counts too
    (``session.custom.external_key`` wins when both are sent).
    """
    known = {field.code_name for field in sites.custom_fields(db)}
    values: dict[str, str] = {}
    if legacy_external_key and EXTERNAL_KEY in params:
        values[EXTERNAL_KEY] = params[EXTERNAL_KEY]
    for name, value in params.multi_items():
        if not name.startswith(PREFIX):
            continue
        code = name.removeprefix(PREFIX)
        if code != EXTERNAL_KEY and code not in known:
            raise NotFound(f"no custom field with code name {code!r}")
        values[code] = value
    check_custom(values)
    if len(values.get(EXTERNAL_KEY, "")) > 1024:
        raise InvalidInput("external_key is longer than 1024 characters")
    return values
