"""A protocol-faithful local stand-in for Azure SignalR Service (serverless mode).

Publishing helpers (`connection`, `binding`) work against Azure and the local
service alike; `service` runs the local service (`python -m devstack.signalr`).
"""

from .binding import send_binding, send_binding_async
from .connection import (
    SignalRConnection,
    SignalRSendError,
    access_token,
    as_connection,
    group_action,
    group_action_async,
    negotiate_info,
    new_access_key,
    new_connection_string,
    parse_connection_string,
    rest_token,
    rest_url,
    send,
    send_async,
)
from .service import LocalSignalR, create_app
from .settings import ServiceSettings

__all__ = [
    "LocalSignalR",
    "ServiceSettings",
    "SignalRConnection",
    "SignalRSendError",
    "access_token",
    "as_connection",
    "create_app",
    "group_action",
    "group_action_async",
    "negotiate_info",
    "new_access_key",
    "new_connection_string",
    "parse_connection_string",
    "rest_token",
    "rest_url",
    "send",
    "send_async",
    "send_binding",
    "send_binding_async",
]
