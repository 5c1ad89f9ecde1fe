"""Which queue a session-generation request leads to (spec 3.2.1, step 1).

A representative's own queue, the queue stored with a session key, or the
team owning an issue. Unknown ids and unusable keys raise
:class:`NotFound`; a representative who is not logged in raises
:class:`SessionStateError`. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core import keys
from supportbox.core.queues import QueueRef
from supportbox.errors import InvalidInput, NotFound, SessionStateError
from supportbox.storage.models import Issue, PublicSite, SessionKey, User
from supportbox.web.public.params import ISSUE, Selection

# start_method values, as the state archive names them.
BY_REP_LIST = "rep_list"
BY_SESSION_KEY = "session_key"
BY_ISSUE = "issue"

KEY_NOT_VALID = (
    "that session key is not valid: check the digits, or ask your "
    "representative for a new key (keys expire and work only once)"
)


@dataclass(frozen=True)
class Target:
    """Where the session goes and what it brings along."""

    queue: QueueRef
    start_method: str
    issue_id: int | None = None
    issue_name: str = ""
    key_id: int | None = None
    external_key: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    priority: int = 2


def resolve(
    db: Session,
    selection: Selection,
    site: PublicSite | None,
    logged_in: Collection[int],
) -> Target:
    """The target of a rep or issue ``selection`` (keys: :func:`key_target`).

    ``logged_in`` holds the user ids of the representatives logged in.
    """
    if selection.mode == ISSUE:
        return _by_issue(db, selection, site, logged_in)
    rep = _rep(db, selection.rep_id, selection.rep_name, logged_in)
    return Target(QueueRef("rep", rep.id), BY_REP_LIST)


def key_target(db: Session, key: SessionKey) -> Target:
    """Where a claimed key's session goes, with what the key carries."""
    try:
        where = keys.key_queue(db, key)
    except (NotFound, InvalidInput):
        raise NotFound(KEY_NOT_VALID) from None
    issue = db.get(Issue, where.issue_id) if where.issue_id is not None else None
    return Target(
        where.queue,
        BY_SESSION_KEY,
        issue_id=issue.id if issue else None,
        issue_name=issue.display_name if issue else "",
        key_id=key.id,
        external_key=key.external_key,
        custom={str(k): str(v) for k, v in key.custom.items()},
        priority=key.priority,
    )


def _by_issue(
    db: Session,
    selection: Selection,
    site: PublicSite | None,
    logged_in: Collection[int],
) -> Target:
    reps_in_menu = site is not None and site.show_reps_in_issue_menu
    if reps_in_menu and selection.issue_ref is not None:
        # "Display Reps in Issues Menu": the menu's id is a representative.
        rep = _rep(db, selection.issue_ref, "", logged_in)
        issue = _issue(db, None, selection.issue_code) if selection.issue_code else None
        return Target(
            QueueRef("rep", rep.id),
            BY_ISSUE,
            issue_id=issue.id if issue else None,
            issue_name=issue.display_name if issue else "",
        )
    issue = _issue(db, selection.issue_ref, selection.issue_code)
    return Target(
        QueueRef("team", issue.team_id),
        BY_ISSUE,
        issue_id=issue.id,
        issue_name=issue.display_name,
    )


def _issue(db: Session, ref: int | None, code: str) -> Issue:
    by_id = db.get(Issue, ref) if ref is not None else None
    by_code = db.scalar(select(Issue).where(Issue.code_name == code)) if code else None
    if ref is not None and by_id is None:
        raise NotFound(f"there is no issue with id {ref}")
    if code and by_code is None:
        raise NotFound(f"there is no issue named {code!r}")
    if by_id is not None and by_code is not None and by_id.id != by_code.id:
        raise InvalidInput("id and codeName name two different issues")
    issue = by_id or by_code
    if issue is None:
        raise NotFound("the request names no issue")
    return issue


def _rep(
    db: Session, rep_id: int | None, name: str, logged_in: Collection[int]
) -> User:
    if rep_id is not None:
        user = db.get(User, rep_id)
        if user is None or (name and user.public_display_name != name):
            raise NotFound("there is no such representative")
    else:
        # Display names need not be unique: prefer one who is logged in.
        named = db.scalars(
            select(User).where(User.public_display_name == name).order_by(User.id)
        ).all()
        if not named:
            raise NotFound(f"there is no representative named {name!r}")
        user = next((u for u in named if u.id in logged_in), named[0])
    if not (user.enabled and user.perm_support):
        raise NotFound("there is no such representative")
    if user.id not in logged_in:
        raise SessionStateError(
            f"{user.public_display_name} is not available right now; "
            "please choose another representative or describe your issue"
        )
    return user
