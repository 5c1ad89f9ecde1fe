"""The administrative interface at /admin: one module per kind of thing."""

from starlette.routing import BaseRoute

from supportbox.web.admin import (
    api_accounts,
    dashboard,
    reports,
    sites,
    teams,
    users,
)

routes: list[BaseRoute] = [
    *dashboard.routes,
    *users.routes,
    *teams.routes,
    *sites.routes,
    *api_accounts.routes,
    *reports.routes,
]
