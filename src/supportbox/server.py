"""Runs the application under uvicorn until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from supportbox import __version__, tuning
from supportbox.errors import ConfigError
from supportbox.live.socket import LiveSocketProtocol
from supportbox.logs import log
from supportbox.runtime import open_runtime
from supportbox.settings import Settings
from supportbox.web.app import build_app


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising them.

    uvicorn re-sends the signal to itself after a graceful shutdown; we
    return normally instead, so the stop is logged and the exit code is 0.
    """

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What the started application holds lives as long as the process.
        tuning.freeze_startup_objects()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def make_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """uvicorn's configuration for ``app``; the tests serve with it too."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
        ws_max_size=4 * 1024 * 1024,
        ws=LiveSocketProtocol,
        # Bulk data (files, shell output) is already compressed or not worth
        # compressing; deflate costs more CPU than it saves on a LAN.
        ws_per_message_deflate=False,
        lifespan="on",
    )


def check_address(host: str, port: int) -> None:
    """ConfigError unless ``host:port`` can be listened on (as uvicorn would)."""
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    for family, kind, proto, _name, address in found:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                why = exc.strerror or str(exc)
                raise ConfigError(f"cannot listen on {host}:{port}: {why}") from None


def serve(settings: Settings) -> None:
    """Serve until told to stop; uvicorn drains open requests on SIGTERM."""
    runtime = open_runtime(settings)
    check_address(settings.host, settings.port)
    server = _Server(make_config(build_app(runtime), settings))
    log.info(
        "supportbox %s serving on %s (data in %s)",
        __version__,
        settings.base_url,
        settings.data_dir,
    )
    server.run()
    log.info("supportbox stopped")
