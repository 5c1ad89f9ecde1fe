"""The administrative interface at /admin: one module per kind of thing."""

from starlette.routing import BaseRoute

from supportbox.web.admin import (
    api_accounts,
    dashboard,
    reports,
    sites,
    teams,
    users,
    webhooks,
)

routes: list[BaseRoute] = [
    *dashboard.routes,
    *users.routes,
    *teams.routes,
    *sites.routes,
    *api_accounts.routes,
    *webhooks.routes,
    *reports.routes,
]
