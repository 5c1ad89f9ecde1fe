"""The representative console at /console."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
