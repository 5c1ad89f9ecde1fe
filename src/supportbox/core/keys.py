"""Session keys: 7-digit codes and key URLs that start a session (spec 4.3).

A key names the queue the session will wait in. Issue keys
(``queue_id=issue:<code>``) are stored as kind ``issue`` with the issue's
id; :func:`key_queue` turns them into the issue's team queue when the key
is redeemed. A key is good for one session: :func:`redeem` claims it with
a conditional UPDATE, so two nodes redeeming the same key cannot both win.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from supportbox import ids
from supportbox.core.queues import QueueRef
from supportbox.errors import InvalidInput, NotFound
from supportbox.settings import Settings
from supportbox.storage.models import Issue, SessionKey

#: Lifetime of a key without ``ttl`` (recorded: 24 hours).
DEFAULT_TTL = 86400
#: Longest ``ttl`` accepted: one year.
MAX_TTL = 365 * 86400
#: Keys are deleted this long after they expire.
KEEP_EXPIRED = 7 * 86400
#: ``used_by_lsid`` of a key claimed before its session had an lsid.
CLAIMED = "claimed"

ISSUE = "issue"
MAIL_SUBJECT = "Remote Support Invitation"

_SHORT_KEY = re.compile(r"\d{7}")
_URL_TOKEN = re.compile(r"[0-9a-f]{32}")
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:\d{1,5})?")


@dataclass(frozen=True)
class KeyQueue:
    """Where a key's session waits: a queue, and the issue if any."""

    queue: QueueRef
    issue_id: int | None = None


def generate_key(
    db: Session,
    queue: QueueRef,
    ttl: int | None = None,
    external_key: str = "",
    custom: dict[str, str] | None = None,
    priority: int = 2,
    skills: list[str] | None = None,
    *,
    issue_id: int | None = None,
    now: float | None = None,
) -> SessionKey:
    """Store a new key; with ``issue_id`` it is an issue key (queue ignored)."""
    now = time.time() if now is None else now
    lifetime = DEFAULT_TTL if ttl is None else ttl
    if not 0 < lifetime <= MAX_TTL:
        raise InvalidInput(f"ttl must be between 1 and {MAX_TTL} seconds")

    db.execute(delete(SessionKey).where(SessionKey.expires_at < now - KEEP_EXPIRED))
    short_key = _unused_short_key(db, now)
    kind, ref = (ISSUE, issue_id) if issue_id is not None else (queue.kind, queue.ref)
    key = SessionKey(
        short_key=short_key,
        url_token=ids.new_url_token(),
        queue_kind=kind,
        queue_ref=ref,
        external_key=external_key,
        custom=dict(custom or {}),
        priority=priority,
        skills=list(skills or []),
        created_at=now,
        expires_at=now + lifetime,
        used_by_lsid=None,
    )
    db.add(key)
    db.flush()
    return key


def _unused_short_key(db: Session, now: float) -> str:
    for _ in range(50):
        candidate = ids.new_short_key()
        taken = db.scalar(
            select(SessionKey.id).where(
                SessionKey.short_key == candidate, SessionKey.expires_at > now
            )
        )
        if taken is None:
            return candidate
    raise InvalidInput("no free session key could be found; try again")


def _find(db: Session, code: str, now: float) -> SessionKey | None:
    code = code.strip()
    if _SHORT_KEY.fullmatch(code):
        column = SessionKey.short_key
    elif _URL_TOKEN.fullmatch(code.lower()):
        column, code = SessionKey.url_token, code.lower()
    else:
        return None
    return db.scalar(
        select(SessionKey).where(
            column == code,
            SessionKey.expires_at > now,
            SessionKey.used_by_lsid.is_(None),
        )
    )


def redeem(db: Session, code: str, now: float | None = None) -> SessionKey:
    """Claim the unused, unexpired key with this short key or URL token.

    Raises :class:`NotFound` (one message for unknown, expired and used
    keys). The claim is final when the caller commits; record the new
    session with :func:`bind`, or give the key back with :func:`release`.
    Use a ``runtime.write_db()`` session, so that on SQLite the loser waits
    for the winner instead of failing on a stale snapshot.
    """
    now = time.time() if now is None else now
    key = _find(db, code, now)
    if key is not None:
        claimed = db.execute(
            update(SessionKey)
            .where(SessionKey.id == key.id, SessionKey.used_by_lsid.is_(None))
            .values(used_by_lsid=CLAIMED)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            db.refresh(key)
            return key
    raise NotFound("the session key is unknown, expired or already used")


def bind(db: Session, key_id: int, lsid: str) -> None:
    """Record the session a claimed key started."""
    db.execute(
        update(SessionKey).where(SessionKey.id == key_id).values(used_by_lsid=lsid)
    )


def release(db: Session, key_id: int) -> None:
    """Give back a claimed key whose session could not be opened."""
    db.execute(
        update(SessionKey)
        .where(SessionKey.id == key_id, SessionKey.used_by_lsid == CLAIMED)
        .values(used_by_lsid=None)
    )


def key_queue(db: Session, key: SessionKey) -> KeyQueue:
    """The queue a key's session waits in; an issue key goes to its team."""
    if key.queue_kind != ISSUE:
        return KeyQueue(QueueRef(key.queue_kind, key.queue_ref))
    issue = db.get(Issue, key.queue_ref)
    if issue is None:
        raise NotFound("the issue of this session key was deleted")
    return KeyQueue(QueueRef("team", issue.team_id), issue.id)


def check_hostname(hostname: str) -> str:
    """``url_hostname`` as given, if it is a host name with an optional port."""
    if not _HOSTNAME.fullmatch(hostname):
        raise InvalidInput(f"url_hostname {hostname!r} is not a host name")
    return hostname.lower()


def key_url(settings: Settings, url_token: str, url_hostname: str = "") -> str:
    """``<base>/?ak=<token>``: the public base URL, or ``url_hostname`` on
    its scheme (the port of the base URL is not kept)."""
    base = settings.base_url
    if url_hostname:
        scheme = urlsplit(base).scheme or "http"
        base = f"{scheme}://{check_hostname(url_hostname)}"
    return f"{base}/?ak={url_token}"


def mail_body(url: str) -> str:
    """The invitation text; clients paste it into an e-mail as it is."""
    return (
        "\nClick on the link below and follow the directions.\n\n"
        f"{url}\n\n"
        "This lets a support representative view your screen in order to "
        "assist you.\n"
        "Once a session has begun, you will be able to end it at any time.\n"
    )
