"""The local Azure SignalR Service stand-in: ASGI app, uvicorn server, in-thread runner.

Serverless mode only: clients negotiate and listen (`client.py`), the app server
publishes through the REST API (`rest.py`). On shutdown every client first gets a
close message with `allowReconnect: true`, so clients built with
`withAutomaticReconnect()` come back when the service restarts on the same port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from . import protocol
from .client import client_socket, negotiate
from .connection import (
    SignalRConnection,
    new_access_key,
    new_connection_string,
    parse_connection_string,
)
from .hub import Registry
from .rest import ROUTES
from .settings import ServiceSettings, ServiceState

SHUTDOWN_CLOSE = protocol.close("Service is shutting down.", allow_reconnect=True)


def create_app(settings: ServiceSettings) -> Starlette:
    """The ASGI app; its state is at `app.state.signalr` (a ServiceState).

    CORS is open to every origin with credentials (the origin is echoed), as Azure's
    default `*` allowed origins behave, so a browser page on another port can negotiate.
    """
    cors = Middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True,
                      allow_methods=["*"], allow_headers=["*"])
    routes = [
        Route("/client/negotiate", negotiate, methods=["POST"]),
        WebSocketRoute("/client/", client_socket),
        WebSocketRoute("/client", client_socket),
        *ROUTES,
    ]
    app = Starlette(routes=routes, middleware=[cors])
    app.state.signalr = ServiceState(settings)
    return app


class SignalRServer(uvicorn.Server):
    """uvicorn server that ends hub connections gracefully before shutting down."""

    def __init__(self, config: uvicorn.Config, registry: Registry,
                 on_ready: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self.registry = registry
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_ready is not None:
            self.on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.registry.close_all(SHUTDOWN_CLOSE, timeout=3.0)
        await super().shutdown(sockets)


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0: any free port), reusable right after a restart."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def build_server(settings: ServiceSettings, log_level: str = "warning",
                 on_ready: Callable[[], None] | None = None) -> SignalRServer:
    """A SignalRServer serving `create_app(settings)`; run it with `server.run(sockets=[...])`."""
    app = create_app(settings)
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=5)
    return SignalRServer(config, app.state.signalr.registry, on_ready)


class LocalSignalR:
    """The service in a background thread, for tests and dev tools.

    >>> with LocalSignalR() as svc:                      # doctest: +SKIP
    ...     send(svc.connection_string, "hub", "target", [1])
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", access_key: str | None = None,
                 **timings: Any) -> None:
        self.host, self.port = host, port
        self.access_key = access_key or new_access_key()
        self.settings = ServiceSettings(self.access_key, **timings)
        self._server: SignalRServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connection_string(self) -> str:
        return new_connection_string(self.port, self.host, self.access_key)

    @property
    def connection(self) -> SignalRConnection:
        return parse_connection_string(self.connection_string)

    @property
    def registry(self) -> Registry:
        assert self._server is not None, "service not started"
        return self._server.registry

    def connections(self, hub: str | None = None) -> list[dict[str, Any]]:
        """Connected clients (all hubs or one)."""
        return self.registry.connections(hub)

    def start(self, timeout: float = 10.0) -> Self:
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = build_server(self.settings)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"signalr-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"local SignalR service did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop: clients get a reconnectable close message, then the port is freed."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
