"""The representative console at /console.

* :mod:`.page` — the page; :file:`static/console.js` drives it
* :mod:`.live` — the WebSocket feed, logged in by the web session cookie
* :mod:`.feed` — what that feed follows and sends
* :mod:`.api` — the console's commands (accept, chat, transfer, ...)
* :mod:`.views` — what the console shows, read from storage
"""

from starlette.routing import BaseRoute

from supportbox.web.console import api, live, page

routes: list[BaseRoute] = [*page.routes, *api.routes, *live.routes]
