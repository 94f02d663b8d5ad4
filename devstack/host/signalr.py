"""SignalR bindings for the local host: the ``devstack.signalr`` helpers, so one implementation serves
the host, the local service's tests and anyone publishing to Azure SignalR Service."""

from __future__ import annotations

from devstack.signalr import negotiate_info, parse_connection_string, send_binding

DEFAULT_CONNECTION_SETTING = "AzureSignalRConnectionString"

__all__ = ["DEFAULT_CONNECTION_SETTING", "negotiate_info", "parse_connection_string", "send_binding"]
