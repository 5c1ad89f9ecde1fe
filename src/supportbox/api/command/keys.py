"""Session keys: generate_session_key and create_virtual_customer (4.3, 4.8)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from supportbox.api.command.call import Call
from supportbox.api.command.custom import EXTERNAL_KEY, custom_values
from supportbox.api.command.registry import FULL, READ, SUPPORT, action
from supportbox.api.command.targets import Target, available, parse_queue
from supportbox.core import keys
from supportbox.core.hub import CustomerInfo, SessionRequest
from supportbox.directory import sites
from supportbox.errors import InvalidInput
from supportbox.storage.models import Issue, SessionKey
from supportbox.xml.writer import E

PRIORITIES = {"1": 1, "2": 2, "3": 3, "high": 1, "medium": 2, "low": 3}
_SKILL = re.compile(r"[a-z0-9_]{1,100}")
MAX_SKILLS = 50


def _skills(text: str) -> list[str]:
    skills = [s.strip() for s in text.split(",") if s.strip()]
    for skill in skills:
        if not _SKILL.fullmatch(skill):
            raise InvalidInput(f"skill {skill!r} is not a code name")
    if len(skills) > MAX_SKILLS:
        raise InvalidInput(f"session.skills names more than {MAX_SKILLS} skills")
    return skills


def _generate(call: Call) -> tuple[SessionKey, Target, bool]:
    params = call.params
    ttl = call.integer("ttl") if params.get("ttl") else None
    priority_text = params.get("session.priority", "2") or "2"
    if priority_text.lower() not in PRIORITIES:
        raise InvalidInput("session.priority must be 1 (high), 2 (medium) or 3 (low)")
    skills = _skills(params.get("session.skills", ""))
    if params.get("url_hostname"):
        keys.check_hostname(params["url_hostname"])

    with call.runtime.write_db() as db, db.begin():
        target = parse_queue(db, call.text("queue_id", limit=200))
        custom = custom_values(db, params, legacy_external_key=True)
        external_key = custom.pop(EXTERNAL_KEY, "")
        key = keys.generate_key(
            db,
            target.queue,
            ttl,
            external_key,
            custom,
            PRIORITIES[priority_text.lower()],
            skills,
            issue_id=target.issue.id if target.issue else None,
        )
        return key, target, available(db, target.queue)


@action("generate_session_key", FULL, SUPPORT)
async def generate_session_key(call: Call) -> E:
    call.choice("type", ("support",), "")
    key, target, is_available = await run_in_threadpool(_generate, call)
    url = keys.key_url(
        call.runtime.settings, key.url_token, call.params.get("url_hostname", "")
    )

    root = E("session_key")
    root.add("type", "support")
    if call.params.get("ttl"):
        root.add("ttl", int(key.expires_at - key.created_at))
    root.add("expires", int(key.expires_at))
    root.add("queue", target.kind, available=1 if is_available else 0)
    if target.ref is not None:
        root.add("queue_id", target.ref)
    if key.external_key:
        root.add("external_key", key.external_key)
    root.add("short_key", key.short_key)
    root.add("key_url", url)
    root.add("mail_subject", keys.MAIL_SUBJECT)
    root.add("mail_body", keys.mail_body(url))
    return root


def _claim(call: Call, code: str) -> tuple[SessionKey, keys.KeyQueue, str, int | None]:
    with call.runtime.write_db() as db, db.begin():
        key = keys.redeem(db, code)
        where = keys.key_queue(db, key)
        issue = db.get(Issue, where.issue_id) if where.issue_id else None
        host = urlsplit(call.runtime.settings.base_url).hostname or ""
        site = sites.site_for_host(db, host)
        db.expunge(key)
        site_id = site.id if site else None
        return key, where, issue.display_name if issue else "", site_id


def _settle(call: Call, key_id: int, lsid: str | None) -> None:
    with call.runtime.write_db() as db, db.begin():
        if lsid is None:
            keys.release(db, key_id)
        else:
            keys.bind(db, key_id, lsid)


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InvalidInput(f"ip_address {text!r} is not an IP address") from None


@action("create_virtual_customer", READ, SUPPORT)
async def create_virtual_customer(call: Call) -> E:
    customer = CustomerInfo(
        name=call.text("name", limit=100),
        hostname=call.text("computer_name", limit=255),
        os=call.text("operating_system", limit=255),
        public_ip=_ip(call.text("ip_address", limit=64)),
    )
    code = call.text("short_key", limit=64)
    key, where, issue_name, site_id = await run_in_threadpool(_claim, call, code)
    customer.issue = issue_name

    request = SessionRequest(
        queue=where.queue,
        customer=customer,
        site_id=site_id,
        issue_id=where.issue_id,
        external_key=key.external_key,
        custom={k: str(v) for k, v in key.custom.items()},
        priority=key.priority,
        start_method="api",
    )
    try:
        opened = await call.hub.open_session(request)
    except BaseException:
        await run_in_threadpool(_settle, call, key.id, None)
        raise
    await run_in_threadpool(_settle, call, key.id, opened.lsid)

    # The browser chat page is the one client that joins an existing
    # session, so ``chat_url`` or not, that is where the link leads. The
    # join token rides in the fragment, which browsers never send.
    root = E("virtual_customer")
    root.add("lsid", opened.lsid)
    base = call.runtime.settings.base_url
    chat = f"{base}/chat/{opened.lsid}#token={opened.join_token}"
    root.add("download_url", chat)
    return root
