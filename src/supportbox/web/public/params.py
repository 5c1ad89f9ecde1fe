"""The parameters of a session-generation request (spec 3.2), checked.

:func:`parse` turns the decoded query and form fields into a
:class:`StartParams`, applying the legacy names, the size limits and the
choice of mode. It knows no database: whether the rep, issue or key
exists is decided later (:mod:`supportbox.web.public.targets`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from supportbox.directory.validate import parse_id
from supportbox.errors import InvalidInput

NAME_LIMIT = 100  # characters: customer name, company, company code
DETAILS_LIMIT = 1024  # bytes (UTF-8) of the problem description
CUSTOM_LIMIT = 1024  # characters of one custom field, the external key included
CUSTOM_TOTAL_LIMIT = 10 * 1024  # bytes (UTF-8) of all custom fields together

CUSTOM_PREFIX = "session.custom."

#: Legacy parameter names of 2007-2013 integrations and their modern names.
LEGACY_NAMES = {
    "customer_name": "customer.name",
    "customer_company": "customer.company",
    "customer_company_code": "customer.company_code",
    "customer_desc": "customer.details",
    "external_key": "session.custom.external_key",
}

_CUSTOMER_FIELDS = {
    "customer.name": "name",
    "customer.company": "company",
    "customer.company_code": "company_code",
}
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,2}$")
_URL_TOKEN = re.compile(r"^[0-9a-f]{32}$")

REP, KEY, ISSUE = "rep", "key", "issue"


@dataclass(frozen=True)
class Customer:
    name: str = ""
    company: str = ""
    company_code: str = ""
    details: str = ""


@dataclass(frozen=True)
class Selection:
    """How the request picks its queue.

    ``mode`` is ``rep``, ``key`` or ``issue``. In key mode exactly one of
    ``short_key`` and ``url_token`` is set; in issue mode at least one of
    ``issue_ref`` (the ``id``) and ``issue_code`` (the ``codeName``).
    """

    mode: str
    rep_id: int | None = None
    rep_name: str = ""
    short_key: str = ""
    url_token: str = ""
    issue_ref: int | None = None
    issue_code: str = ""


@dataclass(frozen=True)
class StartParams:
    """What a start_session request asks for."""

    selection: Selection
    chat: bool = False
    customer: Customer = field(default_factory=Customer)
    external_key: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    locale: str = ""
    cli: bool = False


def merge(query: Mapping[str, str], form: Mapping[str, str]) -> dict[str, str]:
    """Query parameters, then form fields; a form field wins a clash."""
    fields = dict(query)
    fields.update(form)
    return fields


def parse(fields: Mapping[str, str]) -> StartParams:
    """Check ``fields`` (already URL-decoded once) and say what they ask for.

    Raises :class:`InvalidInput` with a message fit for the customer when
    no mode is chosen or a value is malformed or over its limit.
    """
    values = _modern(fields)

    customer = Customer(
        **{attr: _limited(values, name) for name, attr in _CUSTOMER_FIELDS.items()},
        details=_details(values.get("customer.details", "")),
    )
    external_key, custom = _custom(values)

    return StartParams(
        selection=_selection(values),
        chat=values.get("c2cjs", "") == "1",
        customer=customer,
        external_key=external_key,
        custom=custom,
        locale=locale_code(values.get("locale", "")),
        cli=values.get("client", "") == "cli",
    )


def _modern(fields: Mapping[str, str]) -> dict[str, str]:
    """``fields`` with legacy names renamed; a modern name wins a clash."""
    values = dict(fields)
    for legacy, modern in LEGACY_NAMES.items():
        if legacy in values:
            value = values.pop(legacy)
            values.setdefault(modern, value)
    return values


def _limited(values: Mapping[str, str], name: str) -> str:
    value = values.get(name, "").strip()
    if len(value) > NAME_LIMIT:
        raise InvalidInput(f"{name} is longer than {NAME_LIMIT} characters")
    return value


def _details(value: str) -> str:
    value = value.strip()
    if len(value.encode()) > DETAILS_LIMIT:
        raise InvalidInput(f"customer.details is longer than {DETAILS_LIMIT} bytes")
    return value


def _custom(values: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The external key and the other ``session.custom.*`` fields, checked."""
    custom: dict[str, str] = {}
    total = 0
    for name, value in values.items():
        if not name.startswith(CUSTOM_PREFIX):
            continue
        code = name.removeprefix(CUSTOM_PREFIX)
        if len(value) > CUSTOM_LIMIT:
            raise InvalidInput(f"{name} is longer than {CUSTOM_LIMIT} characters")
        total += len(value.encode())
        custom[code] = value
    if total > CUSTOM_TOTAL_LIMIT:
        raise InvalidInput(
            f"the session.custom fields together are longer than "
            f"{CUSTOM_TOTAL_LIMIT} bytes"
        )
    external_key = custom.pop("external_key", "")
    return external_key, custom


def locale_code(value: str) -> str:
    # An unknown or malformed locale falls back to the default language
    # rather than failing a customer who only wants help.
    value = value.strip()
    return value.lower() if _LOCALE.match(value) else ""


def _number(values: Mapping[str, str], name: str) -> int | None:
    text = values.get(name, "").strip()
    if not text:
        return None
    return parse_id(text, name)


def _selection(values: Mapping[str, str]) -> Selection:
    """The queue-selection mode; a key beats the issue menu beats a rep."""
    if "short_key" in values:
        key = re.sub(r"\s+", "", values["short_key"])
        if not key:
            raise InvalidInput("enter the session key your representative gave you")
        return Selection(KEY, short_key=key)
    if "ak" in values:
        return Selection(KEY, url_token=_url_token(values["ak"]))
    if values.get("issue_menu", "") == "1":
        ref = _number(values, "id")
        code = values.get("codeName", "").strip()
        if ref is None and not code:
            raise InvalidInput("choose the issue you need help with")
        return Selection(ISSUE, issue_ref=ref, issue_code=code)
    rep_id = _number(values, "id")
    rep_name = values.get("name", "").strip()
    if rep_id is None and not rep_name:
        raise InvalidInput(
            "the request names no representative, session key or issue "
            "(use id or name, short_key, or issue_menu=1)"
        )
    if len(rep_name) > NAME_LIMIT:
        raise InvalidInput(f"name is longer than {NAME_LIMIT} characters")
    return Selection(REP, rep_id=rep_id, rep_name=rep_name)


def _url_token(value: str) -> str:
    # A malformed key URL is still a key that does not exist: it is
    # answered (and counted by the guessing limit) like any unknown key.
    value = value.strip().lower()
    return value if _URL_TOKEN.match(value) else "-"
