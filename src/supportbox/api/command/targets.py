"""Naming queues and representatives in Command API parameters (spec 4.3)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from supportbox.core.queues import QueueRef
from supportbox.directory.validate import is_id
from supportbox.errors import InvalidInput, NotFound
from supportbox.storage.models import Issue, RepPresence, Team, TeamMember, User


@dataclass(frozen=True)
class Target:
    """A parsed ``queue_id``: the queue, and the issue when one was named.

    ``kind`` and ``ref`` are what ``generate_session_key`` answers in
    ``<queue>`` and ``<queue_id>`` (``issue`` and the issue id for issues).
    """

    queue: QueueRef
    issue: Issue | None = None

    @property
    def kind(self) -> str:
        return "issue" if self.issue is not None else self.queue.kind

    @property
    def ref(self) -> int | None:
        return self.issue.id if self.issue is not None else self.queue.ref


def _number(text: str, what: str) -> int:
    if not is_id(text) or int(text) == 0:
        raise InvalidInput(f"{what} {text!r} is not a positive whole number")
    return int(text)


def rep_by_id(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None or not user.enabled:
        raise NotFound(f"no representative with id {user_id}")
    if not user.perm_support:
        raise InvalidInput(f"user {user.username!r} does not provide support")
    return user


def rep_by_username(db: Session, username: str) -> User:
    """The one user with exactly this username (spec 4.3)."""
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no representative with username {username!r}")
    return rep_by_id(db, user.id)


def parse_queue(db: Session, text: str) -> Target:
    """``general``, ``rep:<id>``, ``rep_username:<name>``, ``team:<id>``,
    ``issue:<code name>`` or the legacy ``embassy:<id>`` (as a team)."""
    if text == "general":
        return Target(QueueRef("general"))
    kind, colon, value = text.partition(":")
    if not colon or not value:
        raise InvalidInput(
            f"queue_id {text!r} is not general, rep:<id>, rep_username:<name>, "
            "team:<id> or issue:<code name>"
        )
    if kind == "rep":
        return Target(QueueRef("rep", rep_by_id(db, _number(value, "rep id")).id))
    if kind == "rep_username":
        return Target(QueueRef("rep", rep_by_username(db, value).id))
    if kind in {"team", "embassy"}:
        team = db.get(Team, _number(value, "team id"))
        if team is None:
            raise NotFound(f"no team with id {value}")
        return Target(QueueRef("team", team.id))
    if kind == "issue":
        issue = db.scalar(select(Issue).where(Issue.code_name == value))
        if issue is None:
            raise NotFound(f"no issue with code name {value!r}")
        return Target(QueueRef("team", issue.team_id), issue)
    raise InvalidInput(
        f"queue_id kind {kind!r} is not rep, rep_username, team or issue"
    )


def online_reps(db: Session) -> set[int]:
    return set(db.scalars(select(RepPresence.user_id)))


def available(db: Session, queue: QueueRef) -> bool:
    """Whether a logged-in representative could take a session in ``queue``."""
    online = online_reps(db)
    if queue.kind == "rep":
        return queue.ref in online
    if queue.kind == "team":
        members = db.scalars(
            select(TeamMember.user_id).where(TeamMember.team_id == queue.ref)
        )
        return any(uid in online for uid in members)
    supporters = db.scalars(
        select(User.id).where(User.perm_support.is_(True), User.enabled.is_(True))
    )
    return any(uid in online for uid in supporters)
