"""Configuration and shared state of one service instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from .hub import Registry


@dataclass(frozen=True)
class ServiceSettings:
    """How the service authenticates and keeps connections alive.

    `endpoints` are extra public base URLs (`scheme://host:port`) accepted in token
    audiences besides the URL a request was actually sent to (e.g. the connection
    string's Endpoint when the service is reached under another host name).
    Timings default to ASP.NET Core SignalR's: ping every 15 s when idle, drop a client
    silent for 30 s, 15 s to complete the handshake.
    """

    access_key: str
    endpoints: tuple[str, ...] = ()
    keep_alive: float = 15.0
    client_timeout: float = 30.0
    handshake_timeout: float = 15.0


@dataclass
class ServiceState:
    """What request handlers share: settings and the connection registry."""

    settings: ServiceSettings
    registry: Registry = field(default_factory=Registry)
