"""Directory commands: ``user``, ``team``, ``issue``, ``api-account``."""

from __future__ import annotations

import argparse
import getpass
import json
import os

from supportbox.cli import common
from supportbox.directory import api_accounts, teams, users
from supportbox.errors import InvalidInput


def register(commands: common.Subparsers) -> None:
    _register_users(commands)
    _register_teams(commands)
    _register_issues(commands)
    _register_api_accounts(commands)


# users


def _register_users(commands: common.Subparsers) -> None:
    family = commands.add_parser("user", help="manage representatives and admins")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = common.subcommand(sub, "create", "create a user", user_create)
    create.add_argument("--username", required=True)
    create.add_argument(
        "--password", help="the password; else SUPPORTBOX_PASSWORD or a prompt"
    )
    create.add_argument("--display-name", default="")
    create.add_argument("--private-display-name", default="")
    create.add_argument("--admin", action="store_true", help="make an administrator")
    create.add_argument(
        "--no-support", action="store_true", help="cannot take sessions"
    )

    listing = common.subcommand(sub, "list", "list users", user_list)
    listing.add_argument("--json", action="store_true")

    update = common.subcommand(sub, "update", "change a user", user_update)
    update.add_argument("--username", required=True)
    update.add_argument("--password")
    update.add_argument("--display-name")
    update.add_argument("--private-display-name")
    update.add_argument("--enable", action="store_true")
    for perm in users.PERMISSIONS:
        short = perm.removeprefix("perm_")
        update.add_argument(f"--{short}", choices=["yes", "no"], dest=perm)

    disable = common.subcommand(
        sub, "disable", "stop a user from logging in", user_disable
    )
    disable.add_argument("--username", required=True)


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        return str(args.password)
    if "SUPPORTBOX_PASSWORD" in os.environ:
        return os.environ["SUPPORTBOX_PASSWORD"]
    try:
        return getpass.getpass("password: ")
    except EOFError:
        raise InvalidInput("password is empty") from None


def user_create(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        user = users.create(
            db,
            args.username,
            _password(args),
            display_name=args.display_name,
            private_display_name=args.private_display_name,
            admin=args.admin,
            support=not args.no_support,
        )
        print(f"created user {user.username} (id {user.id})")
    return 0


def user_list(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        rows = [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.public_display_name,
                "admin": common.flag(u.perm_admin),
                "enabled": common.flag(u.enabled),
            }
            for u in users.list_all(db)
        ]
    common.emit_table(
        rows, ["id", "username", "display_name", "admin", "enabled"], args.json
    )
    return 0


def user_update(args: argparse.Namespace) -> int:
    permissions = {
        perm: getattr(args, perm) == "yes"
        for perm in users.PERMISSIONS
        if getattr(args, perm) is not None
    }
    with common.database(args) as db:
        user = users.update(
            db,
            args.username,
            password=args.password,
            display_name=args.display_name,
            private_display_name=args.private_display_name,
            enabled=True if args.enable else None,
            permissions=permissions,
        )
        print(f"updated user {user.username}")
    return 0


def user_disable(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        users.update(db, args.username, enabled=False)
        print(f"disabled user {args.username}")
    return 0


# teams


def _register_teams(commands: common.Subparsers) -> None:
    family = commands.add_parser("team", help="manage support teams")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = common.subcommand(sub, "create", "create a team", team_create)
    create.add_argument("--name", required=True)
    create.add_argument("--code-name", default="")
    create.add_argument("--comments", default="")
    create.add_argument("--routing", default="none", choices=teams.ROUTINGS)

    listing = common.subcommand(sub, "list", "list teams and members", team_list)
    listing.add_argument("--json", action="store_true")

    update = common.subcommand(sub, "update", "change a team", team_update)
    update.add_argument("--team", required=True, help="id, code name or name")
    update.add_argument("--name")
    update.add_argument("--comments")
    update.add_argument("--routing", choices=teams.ROUTINGS)

    delete = common.subcommand(
        sub, "delete", "delete a team without issues", team_delete
    )
    delete.add_argument("--team", required=True)

    member = common.subcommand(
        sub, "add-member", "add a user or change their role", team_add
    )
    member.add_argument("--team", required=True)
    member.add_argument("--username", required=True)
    member.add_argument("--role", default="member", choices=teams.ROLES)

    remove = common.subcommand(
        sub, "remove-member", "remove a user from a team", team_remove
    )
    remove.add_argument("--team", required=True)
    remove.add_argument("--username", required=True)


def team_create(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        team = teams.create(db, args.name, args.code_name, args.comments, args.routing)
        print(f"created team {team.name} (id {team.id}, code name {team.code_name})")
    return 0


def team_list(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "code_name": t.code_name,
                "routing": t.routing,
                "members": ",".join(f"{m.user.username}:{m.role}" for m in t.members),
            }
            for t in teams.list_all(db)
        ]
    common.emit_table(
        rows, ["id", "name", "code_name", "routing", "members"], args.json
    )
    return 0


def team_update(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        team = teams.update(
            db, args.team, name=args.name, comments=args.comments, routing=args.routing
        )
        print(f"updated team {team.name}")
    return 0


def team_delete(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        teams.delete(db, args.team)
        print(f"deleted team {args.team}")
    return 0


def team_add(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        member = teams.set_member(db, args.team, args.username, args.role)
        print(f"{args.username} is {member.role} of {member.team.name}")
    return 0


def team_remove(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        teams.remove_member(db, args.team, args.username)
        print(f"removed {args.username} from {args.team}")
    return 0


# issues


def _register_issues(commands: common.Subparsers) -> None:
    family = commands.add_parser("issue", help="manage the issues customers pick")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = common.subcommand(sub, "create", "create an issue", issue_create)
    create.add_argument("--code-name", required=True)
    create.add_argument("--display-name", required=True)
    create.add_argument("--team", required=True, help="owning team")

    listing = common.subcommand(sub, "list", "list issues", issue_list)
    listing.add_argument("--json", action="store_true")

    update = common.subcommand(sub, "update", "change an issue", issue_update)
    update.add_argument("--issue", required=True, help="id or code name")
    update.add_argument("--display-name")
    update.add_argument("--team")

    delete = common.subcommand(sub, "delete", "delete an issue", issue_delete)
    delete.add_argument("--issue", required=True)


def issue_create(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        issue = teams.create_issue(db, args.code_name, args.display_name, args.team)
        print(f"created issue {issue.code_name} (id {issue.id}) for {issue.team.name}")
    return 0


def issue_list(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        rows = [
            {
                "id": i.id,
                "code_name": i.code_name,
                "display_name": i.display_name,
                "team": i.team.name,
            }
            for i in teams.list_issues(db)
        ]
    common.emit_table(rows, ["id", "code_name", "display_name", "team"], args.json)
    return 0


def issue_update(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        issue = teams.update_issue(
            db, args.issue, display_name=args.display_name, team_ref=args.team
        )
        print(f"updated issue {issue.code_name}")
    return 0


def issue_delete(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        teams.delete_issue(db, args.issue)
        print(f"deleted issue {args.issue}")
    return 0


# API accounts


def _register_api_accounts(commands: common.Subparsers) -> None:
    family = commands.add_parser("api-account", help="manage API accounts")
    sub = family.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = common.subcommand(
        sub, "create", "create an account; prints the secret once", api_create
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--command", default="deny", choices=["full", "read_only", "deny"]
    )
    create.add_argument("--reporting", action="store_true")
    create.add_argument("--backup", action="store_true")
    create.add_argument("--json", action="store_true")

    listing = common.subcommand(sub, "list", "list accounts", api_list)
    listing.add_argument("--json", action="store_true")

    for name, handler, help_ in (
        ("disable", api_disable, "disable an account and revoke its tokens"),
        ("enable", api_enable, "enable an account"),
        ("regenerate-secret", api_regenerate, "new secret; revokes every token"),
    ):
        parser = common.subcommand(sub, name, help_, handler)
        parser.add_argument("--name", required=True, help="name or client id")
        if name == "regenerate-secret":
            parser.add_argument("--json", action="store_true")


def _print_credentials(client_id: str, secret: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    print("the secret is shown only now; store it safely")


def api_create(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        account, secret = api_accounts.create(
            db,
            args.name,
            command=args.command,
            reporting=args.reporting,
            backup=args.backup,
        )
        client_id = account.client_id
    _print_credentials(client_id, secret, args.json)
    return 0


def api_list(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "client_id": a.client_id,
                "command": a.perm_command,
                "reporting": common.flag(a.perm_reporting_support),
                "backup": common.flag(a.perm_backup),
                "enabled": common.flag(a.enabled),
            }
            for a in api_accounts.list_all(db)
        ]
    columns = ["id", "name", "client_id", "command", "reporting", "backup", "enabled"]
    common.emit_table(rows, columns, args.json)
    return 0


def api_disable(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        account = api_accounts.set_enabled(db, args.name, False)
        print(f"disabled API account {account.name}")
    return 0


def api_enable(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        account = api_accounts.set_enabled(db, args.name, True)
        print(f"enabled API account {account.name}")
    return 0


def api_regenerate(args: argparse.Namespace) -> int:
    with common.database(args) as db:
        account, secret = api_accounts.regenerate_secret(db, args.name)
        client_id = account.client_id
    _print_credentials(client_id, secret, args.json)
    return 0
