"""The representative console at /console.

* :mod:`.page` — the page; :file:`static/console.js` drives it, speaking
  the live protocol (docs/protocol.md) on ``/live`` logged in by the web
  session cookie (``"web_session": true`` in its ``hello``)
* :mod:`.api` — what the protocol lacks: a session's details for the side
  panel, and custom session fields
* :mod:`.views` — what the console shows, read from storage
"""

from starlette.routing import BaseRoute

from supportbox.web.console import api, page

routes: list[BaseRoute] = [*page.routes, *api.routes]
