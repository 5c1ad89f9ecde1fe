"""Demo data for ``supportbox init --demo``: enough to run a first session."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from supportbox.directory import api_accounts, sites, teams, users

REP_PASSWORD = "demo-rep-pass"
ADMIN_PASSWORD = "demo-admin-pass"

_REPS = (
    ("alice", "Alice", "Alice (Tech Support)", "Tech Support", "lead"),
    ("bob", "Bob", "Bob (Tech Support)", "Tech Support", "member"),
    ("carol", "Carol", "Carol (Accounts)", "Accounts", "member"),
)


def load(db: Session) -> dict[str, Any]:
    """Create the demo directory; returns the logins and API credentials."""
    sites.create_site(db, "Support", ["localhost", "127.0.0.1"], default=True)

    tech = teams.create(db, "Tech Support", "tech_support", routing="least_busy")
    accounts_team = teams.create(db, "Accounts", "accounts")
    teams.create_issue(db, "printer", "Printer problem", tech.id)
    teams.create_issue(db, "email", "E-mail problem", tech.id)
    teams.create_issue(db, "billing", "Billing question", accounts_team.id)

    for username, public, private, team, role in _REPS:
        users.create(
            db,
            username,
            REP_PASSWORD,
            display_name=public,
            private_display_name=private,
        )
        teams.set_member(db, team, username, role)
    users.create(db, "admin", ADMIN_PASSWORD, display_name="Admin", admin=True)
    teams.set_member(db, "tech_support", "admin", "manager")

    sites.create_custom_field(db, "priority", "Priority")
    sites.create_question(
        db,
        "customer",
        "rating",
        "radio",
        "How would you rate this session?",
        "Rating",
        ["1", "2", "3", "4", "5"],
    )
    sites.create_question(db, "customer", "comments", "textarea", "Comments")
    sites.create_question(
        db,
        "rep",
        "resolved",
        "radio",
        "Was the problem solved?",
        "Resolved",
        ["yes", "no"],
    )
    sites.create_question(db, "rep", "comments", "textarea", "Comments")

    account, secret = api_accounts.create(
        db, "demo-integration", command="full", reporting=True, backup=True
    )
    for perm in api_accounts.PERMISSIONS[1:]:
        setattr(account, perm, True)
    db.flush()

    return {
        "admin": {"username": "admin", "password": ADMIN_PASSWORD},
        "reps": [{"username": name, "password": REP_PASSWORD} for name, *_ in _REPS],
        "api": {"client_id": account.client_id, "client_secret": secret},
    }
