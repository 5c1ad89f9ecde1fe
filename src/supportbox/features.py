"""Where the feature packages are wired in: routes and services.

Each feature adds its routes to :func:`routes` and, if it runs anything
long-lived, a line to :func:`install`. Keep this file a plain list.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from supportbox.api import backup as backup_api
from supportbox.api import oauth
from supportbox.api.command import endpoint as command_api
from supportbox.api.reporting import routes as reporting
from supportbox.auth import links as auth_links
from supportbox.auth.ratelimit import Limiter
from supportbox.broker import make_broker
from supportbox.core.hub import Hub
from supportbox.core.sweeper import Sweeper
from supportbox.live import endpoint as live
from supportbox.presentation import live as presentations
from supportbox.recording.sharing import recorder_for
from supportbox.runtime import Runtime
from supportbox.streams.relay import Relay
from supportbox.web import admin, assets, console, health, public, recordings
from supportbox.web.security import login
from supportbox.webhooks import worker as webhooks


def routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *live.routes(),
        *oauth.routes,
        *command_api.routes,
        *public.routes,
        *reporting.routes,
        *recordings.routes,
        *backup_api.routes,
        *login.routes,
        *admin.routes,
        *console.routes,
        *assets.routes(),
    ]


def install(runtime: Runtime) -> None:
    """Create the services and observers of a server process."""
    broker = make_broker(runtime.settings.broker_url)
    runtime.services["broker"] = broker
    auth_links.install(runtime)
    hub = Hub(runtime, broker)
    runtime.services["hub"] = hub
    runtime.services["sweeper"] = Sweeper(runtime, hub)
    live.install(runtime)
    runtime.services["ratelimit"] = Limiter()
    runtime.services["join_guesses"] = Limiter()
    runtime.services["key_guesses"] = Limiter(
        runtime.settings.key_guess_limit, window=600.0
    )
    webhooks.install(runtime)
    relay = runtime.services["streams"] = Relay(runtime)
    # Every shared screen is recorded (unless the settings say otherwise).
    relay.screens.recorder_factory = recorder_for
    presentations.install(runtime)
