"""How the address of a connected client is written in reports.

The appliance reports a client's ``public_ip`` with the port it
connected from: ``4.231.237.19:61606``, IPv6 as
``[2a01:e34::d987]:56722`` (spec 5.3, "IP addresses"). Rate limits and
seat counts key on the address alone.
"""

from __future__ import annotations

UNKNOWN = "Unknown"


def public_ip(client: tuple[str, int] | None) -> str:
    """``ip:port`` of ``client`` (host, port), ``[ip]:port`` for IPv6.

    A port of 0 means none is known (behind a proxy, uvicorn takes the
    address from ``X-Forwarded-For``, which carries no port): then the
    address alone. No client at all is ``Unknown``.
    """
    if client is None or not client[0]:
        return UNKNOWN
    host, port = client[0], client[1]
    if not port:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
