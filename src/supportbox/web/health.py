"""``/check_health``: 200 when healthy, 500 otherwise (spec 1.1)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from supportbox.runtime import Runtime


def probe(runtime: Runtime) -> str | None:
    """``None`` when healthy, else a short reason."""
    try:
        with runtime.db() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "database is not answering"
    return None


async def check_health(request: Request) -> PlainTextResponse:
    runtime: Runtime = request.app.state.runtime
    problem = probe(runtime)
    # Which node answered, for operators checking a load balancer.
    headers = {"X-Supportbox-Node": runtime.node_id}
    if problem is None:
        return PlainTextResponse("healthy\n", headers=headers)
    return PlainTextResponse(
        f"unhealthy: {problem}\n", status_code=500, headers=headers
    )


routes = [Route("/check_health", check_health, methods=["GET", "HEAD"])]
