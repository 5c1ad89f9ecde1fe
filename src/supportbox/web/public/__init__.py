"""The public site and session generation (spec section 3).

``routes`` are added to the application by :mod:`supportbox.features`.
"""

from starlette.routing import Route, WebSocketRoute

from supportbox.web.public import presentation, site, start

_START = ["GET", "POST", "HEAD"]

routes = [
    Route("/", site.front_page, methods=["GET", "HEAD"]),
    Route("/api/start_session", start.start_session, methods=_START),
    Route("/api/start_session.ns", start.start_session, methods=_START),
    Route("/download_customer_connector.ns", start.start_session, methods=_START),
    Route("/api/start_session.js", site.starter_script, methods=["GET", "HEAD"]),
    Route("/chat/{lsid:str}", site.chat_page, methods=["GET", "HEAD"]),
    Route("/site/public.css", site.stylesheet, methods=["GET", "HEAD"]),
    Route("/site/chat.js", site.chat_script, methods=["GET", "HEAD"]),
    Route("/site/presentation.js", presentation.watch_script, methods=["GET"]),
    Route("/presentation", presentation.join_form, methods=["GET"]),
    Route("/presentation/{token:str}", presentation.watch_page, methods=["GET"]),
    WebSocketRoute("/presentation/ws/{token:str}", presentation.watch_socket),
]
