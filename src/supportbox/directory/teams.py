"""Support teams, their members, and the issues they own."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supportbox.directory import users, validate
from supportbox.errors import Conflict, InvalidInput, NotFound
from supportbox.storage.models import Issue, SupportSession, Team, TeamMember

ROLES = ("member", "lead", "manager")
ROUTINGS = ("none", "least_busy")


def get(db: Session, ref: str | int) -> Team:
    """A team by id, code name or name."""
    if isinstance(ref, int):
        team = db.get(Team, ref) if 0 <= ref <= validate.MAX_ID else None
    elif validate.is_id(ref):
        team = db.get(Team, int(ref))
    else:
        team = db.scalar(
            select(Team).where((Team.code_name == ref) | (Team.name == ref))
        )
    if team is None:
        raise NotFound(f"no team {ref!r}")
    return team


def create(
    db: Session,
    name: str,
    code_name: str = "",
    comments: str = "",
    routing: str = "none",
) -> Team:
    name = validate.name(name, "team name")
    code = validate.code_name(code_name or validate.slug(name))
    if routing not in ROUTINGS:
        raise InvalidInput(f"routing {routing!r} is not one of {', '.join(ROUTINGS)}")
    clash = db.scalar(
        select(Team.id).where((Team.name == name) | (Team.code_name == code))
    )
    if clash is not None:
        raise Conflict(f"a team named {name!r} or coded {code!r} exists")
    team = Team(name=name, code_name=code, comments=comments, routing=routing)
    db.add(team)
    db.flush()
    return team


def update(
    db: Session,
    ref: str | int,
    *,
    name: str | None = None,
    comments: str | None = None,
    routing: str | None = None,
) -> Team:
    team = get(db, ref)
    if name is not None:
        team.name = validate.name(name, "team name")
    if comments is not None:
        team.comments = comments
    if routing is not None:
        if routing not in ROUTINGS:
            raise InvalidInput(f"routing {routing!r} is not one of none, least_busy")
        team.routing = routing
    db.flush()
    return team


def delete(db: Session, ref: str | int) -> None:
    team = get(db, ref)
    if team.issues:
        raise Conflict(f"team {team.name!r} still owns issues; delete them first")
    db.delete(team)
    db.flush()


def set_member(db: Session, ref: str | int, username: str, role: str) -> TeamMember:
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
    team = get(db, ref)
    user = users.get(db, username)
    member = db.get(TeamMember, (team.id, user.id))
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user.id, role=role)
        db.add(member)
    member.role = role
    db.flush()
    return member


def remove_member(db: Session, ref: str | int, username: str) -> None:
    team = get(db, ref)
    user = users.get(db, username)
    member = db.get(TeamMember, (team.id, user.id))
    if member is None:
        raise NotFound(f"{username!r} is not a member of {team.name!r}")
    db.delete(member)
    db.flush()


def list_all(db: Session) -> list[Team]:
    return list(db.scalars(select(Team).order_by(Team.id)))


def get_issue(db: Session, ref: str | int) -> Issue:
    """An issue by id or code name."""
    if isinstance(ref, int) or validate.is_id(ref):
        issue = db.get(Issue, int(ref))
    else:
        issue = db.scalar(select(Issue).where(Issue.code_name == ref))
    if issue is None:
        raise NotFound(f"no issue {ref!r}")
    return issue


def create_issue(
    db: Session, code_name: str, display_name: str, team_ref: str | int
) -> Issue:
    code = validate.code_name(code_name, "issue code name")
    if db.scalar(select(Issue.id).where(Issue.code_name == code)) is not None:
        raise Conflict(f"issue code name {code!r} is taken")
    team = get(db, team_ref)
    position = db.scalar(select(func.count(Issue.id))) or 0
    issue = Issue(
        code_name=code,
        display_name=validate.name(display_name, "issue name"),
        team_id=team.id,
        position=position,
    )
    db.add(issue)
    db.flush()
    return issue


def update_issue(
    db: Session,
    ref: str | int,
    *,
    display_name: str | None = None,
    team_ref: str | None = None,
) -> Issue:
    issue = get_issue(db, ref)
    if display_name is not None:
        issue.display_name = validate.name(display_name, "issue name")
    if team_ref is not None:
        issue.team_id = get(db, team_ref).id
    db.flush()
    return issue


def delete_issue(db: Session, ref: str | int) -> None:
    issue = get_issue(db, ref)
    used = db.scalar(
        select(SupportSession.id).where(SupportSession.issue_id == issue.id).limit(1)
    )
    if used is not None:
        raise Conflict(f"issue {issue.code_name!r} is used by recorded sessions")
    db.delete(issue)
    db.flush()


def list_issues(db: Session) -> list[Issue]:
    return list(db.scalars(select(Issue).order_by(Issue.position, Issue.id)))
