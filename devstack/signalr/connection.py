"""Azure SignalR connection strings, access tokens and a REST publisher.

Works the same against Azure SignalR Service and the local stand-in
(`python -m devstack.signalr`): this is what a Functions host needs for the
`signalRConnectionInfo` input binding (`negotiate_info`) and the `signalR` output
binding (`send`, `send_async`, `group_action`, `send_binding`).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import jwt
import orjson

DEFAULT_TTL = 3600
"""Token lifetime in seconds (the Functions extension's default is one hour)."""


@dataclass(frozen=True)
class SignalRConnection:
    """A parsed access-key connection string."""

    endpoint: str
    """Server (REST) endpoint, `scheme://host[:port]`, no trailing slash."""
    access_key: str
    client_endpoint: str = ""
    """Endpoint clients connect to (ClientEndpoint=; empty means `endpoint`)."""
    version: str = "1.0"

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint", self.endpoint.rstrip("/"))
        object.__setattr__(self, "client_endpoint", (self.client_endpoint or self.endpoint).rstrip("/"))

    def client_url(self, hub: str) -> str:
        """The URL clients negotiate with, and the `aud` of their access tokens."""
        return f"{self.client_endpoint}/client/?hub={hub}"


def _with_port(url: str, port: str | None) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint must be an http(s) URL, got {url!r}")
    netloc = parts.netloc if port is None else f"{parts.hostname}:{int(port)}"
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def parse_connection_string(text: str) -> SignalRConnection:
    """Parse `Endpoint=...;AccessKey=...;Version=1.0;[Port=...;][ClientEndpoint=...;]`.

    Keys are case-insensitive, as in Azure; `Port` overrides the endpoint's port and
    `ServerEndpoint`/`ClientEndpoint` override the REST and client endpoints.
    Only access-key authentication is supported (no `AuthType=azure...`).
    """
    fields: dict[str, str] = {}
    for part in text.split(";"):
        if part.strip():
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"malformed connection string segment {part!r}")
            fields[key.strip().lower()] = value.strip()
    if fields.get("authtype"):
        raise ValueError("only AccessKey connection strings are supported")
    if not fields.get("endpoint") or not fields.get("accesskey"):
        raise ValueError("connection string needs Endpoint= and AccessKey=")
    version = fields.get("version", "1.0")
    if version not in ("1.0", "1.0-preview"):
        raise ValueError(f"unsupported connection string Version={version}")
    port = fields.get("port")
    endpoint = _with_port(fields.get("serverendpoint") or fields["endpoint"], port)
    client = fields.get("clientendpoint")
    client_endpoint = _with_port(client, None) if client else _with_port(fields["endpoint"], port)
    return SignalRConnection(endpoint, fields["accesskey"], client_endpoint, version)


def as_connection(conn: SignalRConnection | str) -> SignalRConnection:
    """Accept a parsed connection or a connection string."""
    return conn if isinstance(conn, SignalRConnection) else parse_connection_string(conn)


def new_access_key() -> str:
    """A fresh random key, shaped like Azure's (base64 of 32 random bytes)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def new_connection_string(port: int, host: str = "127.0.0.1", access_key: str | None = None) -> str:
    """A connection string for a local service, with a fresh AccessKey unless given."""
    return f"Endpoint=http://{host}:{port};AccessKey={access_key or new_access_key()};Version=1.0;"


def access_token(access_key: str, audience: str, ttl: float = DEFAULT_TTL, **claims: Any) -> str:
    """HS256 JWT signed with the AccessKey, with `aud`, `iat` and `exp`."""
    now = int(time.time())
    payload = {**claims, "aud": audience, "iat": now, "exp": now + int(ttl)}
    return jwt.encode(payload, access_key.encode(), algorithm="HS256")


def rest_token(conn: SignalRConnection | str, url: str, ttl: float = DEFAULT_TTL) -> str:
    """Bearer token for a REST call: `aud` is the request URL without its query."""
    parts = urlsplit(url)
    audience = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return access_token(as_connection(conn).access_key, audience, ttl)


def negotiate_info(
    conn: SignalRConnection | str, hub: str, user_id: str | None = None, ttl: float = DEFAULT_TTL
) -> dict[str, str]:
    """What the `signalRConnectionInfo` input binding returns: `{url, accessToken}`."""
    conn = as_connection(conn)
    url = conn.client_url(hub)
    claims = {"nameid": user_id} if user_id else {}
    return {"url": url, "accessToken": access_token(conn.access_key, url, ttl, **claims)}


def rest_url(
    conn: SignalRConnection | str,
    hub: str,
    *,
    user_id: str | None = None,
    group: str | None = None,
    connection_id: str | None = None,
) -> str:
    """`{endpoint}/api/v1/hubs/{hub}[/users/{id}|/groups/{g}|/connections/{c}]`, escaped."""
    conn = as_connection(conn)
    url = f"{conn.endpoint}/api/v1/hubs/{quote(hub, safe='')}"
    targets = [(k, v) for k, v in (("users", user_id), ("groups", group), ("connections", connection_id)) if v]
    if len(targets) > 1:
        raise ValueError("address at most one of user_id, group, connection_id")
    for kind, value in targets:
        url += f"/{kind}/{quote(str(value), safe='')}"
    return url


class SignalRSendError(RuntimeError):
    """The service answered a REST call with a non-2xx status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"SignalR {method} {url} failed: HTTP {status} {body[:300]}".rstrip())
        self.method, self.url, self.status, self.body = method, url, status, body


def _request(conn: SignalRConnection, method: str, url: str, body: Any = None, params: Any = None) -> httpx.Request:
    headers = {"Authorization": f"Bearer {rest_token(conn, url)}"}
    if body is None:
        return httpx.Request(method, url, params=params, headers=headers)
    headers["Content-Type"] = "application/json"  # orjson: a chain message is ~10 KB, stdlib json is slower
    return httpx.Request(method, url, content=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), params=params,
                         headers=headers)


def _check(response: httpx.Response) -> httpx.Response:
    if not response.is_success:
        req = response.request
        raise SignalRSendError(req.method, str(req.url), response.status_code, response.text)
    return response


def _message_request(conn: SignalRConnection | str, hub: str, target: str, arguments: Sequence[Any],
                     user_id: str | None, group: str | None, connection_id: str | None,
                     excluded: Iterable[str]) -> httpx.Request:
    conn = as_connection(conn)
    url = rest_url(conn, hub, user_id=user_id, group=group, connection_id=connection_id)
    params = [("excluded", c) for c in excluded] or None
    return _request(conn, "POST", url, {"target": target, "arguments": list(arguments)}, params)


def send(conn: SignalRConnection | str, hub: str, target: str, arguments: Sequence[Any],
         user_id: str | None = None, group: str | None = None, *, connection_id: str | None = None,
         excluded: Iterable[str] = (), client: httpx.Client | None = None, timeout: float = 10.0) -> None:
    """Invoke `target(*arguments)` on every client of the hub (or of one user/group/connection)."""
    request = _message_request(conn, hub, target, arguments, user_id, group, connection_id, excluded)
    if client is not None:
        _check(client.send(request))
        return
    with httpx.Client(timeout=timeout) as own:
        _check(own.send(request))


async def send_async(conn: SignalRConnection | str, hub: str, target: str, arguments: Sequence[Any],
                     user_id: str | None = None, group: str | None = None, *,
                     connection_id: str | None = None, excluded: Iterable[str] = (),
                     client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
    """Async `send` (httpx.AsyncClient; pass `client` to reuse one)."""
    request = _message_request(conn, hub, target, arguments, user_id, group, connection_id, excluded)
    if client is not None:
        _check(await client.send(request))
        return
    async with httpx.AsyncClient(timeout=timeout) as own:
        _check(await own.send(request))


def _group_request(conn: SignalRConnection | str, hub: str, group: str | None, action: str,
                   connection_id: str | None, user_id: str | None) -> httpx.Request:
    conn = as_connection(conn)
    action = action.lower()
    if action == "removeall":  # user (Functions: also connection) leaves every group
        if not user_id:
            raise ValueError("removeAll needs user_id")
        return _request(conn, "DELETE", rest_url(conn, hub, user_id=user_id) + "/groups")
    if action not in ("add", "remove") or not group or bool(connection_id) == bool(user_id):
        raise ValueError("group action needs action add/remove, a group and one of connection_id/user_id")
    member = f"/connections/{quote(connection_id, safe='')}" if connection_id else f"/users/{quote(user_id or '', safe='')}"
    return _request(conn, "PUT" if action == "add" else "DELETE", rest_url(conn, hub, group=group) + member)


def group_action(conn: SignalRConnection | str, hub: str, group: str | None, action: str, *,
                 connection_id: str | None = None, user_id: str | None = None,
                 client: httpx.Client | None = None, timeout: float = 10.0) -> None:
    """Add/remove a connection or user to/from a group (`action`: add, remove, removeAll)."""
    request = _group_request(conn, hub, group, action, connection_id, user_id)
    if client is not None:
        _check(client.send(request))
        return
    with httpx.Client(timeout=timeout) as own:
        _check(own.send(request))


async def group_action_async(conn: SignalRConnection | str, hub: str, group: str | None, action: str, *,
                             connection_id: str | None = None, user_id: str | None = None,
                             client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
    """Async `group_action`."""
    request = _group_request(conn, hub, group, action, connection_id, user_id)
    if client is not None:
        _check(await client.send(request))
        return
    async with httpx.AsyncClient(timeout=timeout) as own:
        _check(await own.send(request))
