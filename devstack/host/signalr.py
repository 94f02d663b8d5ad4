"""Azure SignalR Service serverless protocol, as the Functions SignalR bindings use it.

Kept in one module so the host can switch to `devstack.signalr`'s helpers when they land:
`negotiate_info(conn, hub, user_id)` -> {url, accessToken} and
`send(conn, hub, target, arguments, user_id, group)` -> REST POST with an HS256 JWT
whose `aud` is the request URL, signed with the connection string's AccessKey.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import jwt

DEFAULT_CONNECTION_SETTING = "AzureSignalRConnectionString"
CLIENT_TOKEN_LIFETIME = 3600.0  # the extension's default for negotiate tokens
REST_TOKEN_LIFETIME = 300.0


@dataclass(frozen=True)
class SignalRConnection:
    endpoint: str  # scheme://host[:port], no trailing slash
    access_key: str


def parse_connection_string(conn: str | SignalRConnection) -> SignalRConnection:
    """`Endpoint=...;AccessKey=...;Version=1.0;[Port=...]` (keys case-insensitive)."""
    if isinstance(conn, SignalRConnection):
        return conn
    parts = {}
    for item in conn.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            parts[key.strip().lower()] = value.strip()
    if "endpoint" not in parts or "accesskey" not in parts:
        raise ValueError("SignalR connection string needs Endpoint and AccessKey")
    endpoint = parts["endpoint"].rstrip("/")
    if parts.get("port"):
        split = urlsplit(endpoint)
        endpoint = urlunsplit((split.scheme, f"{split.hostname}:{parts['port']}", split.path, "", ""))
    return SignalRConnection(endpoint=endpoint, access_key=parts["accesskey"])


def _token(key: str, audience: str, lifetime: float, user_id: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"aud": audience, "iat": now, "exp": now + int(lifetime)}
    if user_id:
        claims["nameid"] = user_id
    return jwt.encode(claims, key.encode(), algorithm="HS256")


def client_url(conn: str | SignalRConnection, hub: str) -> str:
    return f"{parse_connection_string(conn).endpoint}/client/?hub={quote(hub, safe='')}"


def negotiate_info(conn: str | SignalRConnection, hub: str, user_id: str | None = None) -> dict[str, str]:
    """What a `signalRConnectionInfo` input binding gives the function."""
    c = parse_connection_string(conn)
    url = client_url(c, hub)
    return {"url": url, "accessToken": _token(c.access_key, url, CLIENT_TOKEN_LIFETIME, user_id)}


def rest_url(conn: str | SignalRConnection, hub: str, user_id: str | None = None, group: str | None = None) -> str:
    """Broadcast, user or group endpoint of the data-plane REST API (v1)."""
    url = f"{parse_connection_string(conn).endpoint}/api/v1/hubs/{quote(hub, safe='')}"
    if user_id:
        return f"{url}/users/{quote(user_id, safe='')}"
    if group:
        return f"{url}/groups/{quote(group, safe='')}"
    return url


def send(
    conn: str | SignalRConnection,
    hub: str,
    target: str,
    arguments: list[Any],
    user_id: str | None = None,
    group: str | None = None,
    *,
    timeout: float = 10.0,
) -> None:
    """POST one invocation message; raises httpx.HTTPStatusError unless the service accepts it."""
    c = parse_connection_string(conn)
    url = rest_url(c, hub, user_id, group)
    headers = {"Authorization": f"Bearer {_token(c.access_key, url, REST_TOKEN_LIFETIME)}"}
    body = {"target": target, "arguments": arguments}
    httpx.post(url, json=body, headers=headers, timeout=timeout).raise_for_status()


def binding_messages(value: Any) -> list[dict[str, Any]]:
    """A `signalR` output value (JSON string, dict or list of them) as message dicts.

    Keys are matched case-insensitively, like the extension's deserializer.
    """
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    items = value if isinstance(value, list) else [value]
    messages = []
    for item in items:
        if isinstance(item, (str, bytes)):
            item = json.loads(item)
        if not isinstance(item, Mapping):
            raise TypeError(f"SignalR output item must be an object, got {type(item).__name__}")
        lowered = {str(k).lower(): v for k, v in item.items()}
        if "action" in lowered:
            raise ValueError("SignalR group actions are not supported by the local host")
        if not isinstance(lowered.get("target"), str) or not lowered["target"]:
            raise ValueError("SignalR message needs a non-empty 'target'")
        arguments = lowered.get("arguments") or []
        if not isinstance(arguments, list):
            raise TypeError("SignalR message 'arguments' must be a list")
        messages.append(
            {
                "target": lowered["target"],
                "arguments": arguments,
                "user_id": lowered.get("userid") or None,
                "group": lowered.get("groupname") or None,
            }
        )
    return messages


def send_binding(conn: str | SignalRConnection, hub: str, value: Any) -> int:
    """Deliver every message of an output binding value; returns how many were sent."""
    messages = binding_messages(value)
    for message in messages:
        send(conn, hub, **message)
    return len(messages)
