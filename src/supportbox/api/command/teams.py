"""get_support_teams: teams, their issues and, on request, members (spec 4.2)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from supportbox.api.command.call import Call
from supportbox.api.command.registry import READ, action
from supportbox.directory import teams
from supportbox.xml.writer import E


def _teams(call: Call, members: bool) -> E:
    root = E("support_teams")
    with call.runtime.db() as db:
        for team in teams.list_all(db):
            item = root.add("support_team", id=team.id)
            item.add("name", team.name)
            item.add("code_name", team.code_name)
            issues = item.add("issues")
            for issue in sorted(team.issues, key=lambda i: (i.position, i.id)):
                entry = issues.add("issue", id=issue.id)
                entry.add("display_name", issue.display_name)
                entry.add("code_name", issue.code_name)
            if not members:
                continue
            listing = item.add("members")
            for member in sorted(team.members, key=lambda m: m.user_id):
                # id stays the only attribute: some clients take the last one.
                rep = listing.add("representative", id=member.user_id)
                rep.add("username", member.user.username)
                rep.add("public_display_name", member.user.public_display_name)
                rep.add("private_display_name", member.user.private_display_name)
                rep.add("role", member.role)
    return root


@action("get_support_teams", READ)
async def get_support_teams(call: Call) -> E:
    return await run_in_threadpool(_teams, call, call.flag("showmembers"))
