"""Data-plane REST API v1 of Azure SignalR Service (what output bindings call).

Every `/api/v1/hubs/...` call needs `Authorization: Bearer <JWT>` signed with the
AccessKey whose `aud` is the request URL as sent (no query) and whose `exp` is in the
future; otherwise 401 and nothing happens. Sends answer 202 once the message is queued
for every addressed connection (delivery is asynchronous, as in Azure).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from . import protocol
from .auth import AuthError, bearer_token, request_urls, verify
from .hub import Registry, valid_group, valid_hub
from .settings import ServiceState

Handler = Callable[[Request, Registry, str], Awaitable[Response]]


def _status(code: int, text: str = "") -> Response:
    return PlainTextResponse(text, status_code=code)


def _authorize(request: Request, state: ServiceState) -> Response | None:
    try:
        verify(bearer_token(request.headers), state.settings.access_key,
               request_urls(request.scope, state.settings.endpoints))
    except AuthError as exc:
        return PlainTextResponse(f"Unauthorized: {exc}", status_code=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    return None


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, validate hub and group names, then run `handler(request, registry, hub)`."""

    async def endpoint(request: Request) -> Response:
        state: ServiceState = request.app.state.signalr
        denied = _authorize(request, state)
        if denied is not None:
            return denied
        hub = request.path_params["hub"]
        if not valid_hub(hub):
            return _status(400, "Invalid hub name.")
        if "group" in request.path_params and not valid_group(request.path_params["group"]):
            return _status(400, "Invalid group name.")
        return await handler(request, state.registry, hub)

    return endpoint


async def _payload(request: Request) -> tuple[str, list[Any]] | Response:
    """`{"target": str, "arguments": [...]}` (keys case-insensitive), else a 400."""
    try:
        body = protocol.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _status(400, "Body must be a JSON object.")
    if not isinstance(body, dict):
        return _status(400, "Body must be a JSON object.")
    fields = {str(k).lower(): v for k, v in body.items()}
    target, arguments = fields.get("target"), fields.get("arguments")
    if not isinstance(target, str) or not target:
        return _status(400, "'target' must be a non-empty string.")
    if arguments is None:
        arguments = []
    if not isinstance(arguments, list):
        return _status(400, "'arguments' must be an array.")
    return target, arguments


async def _send(request: Request, registry: Registry, hub: str, **address: Any) -> Response:
    payload = await _payload(request)
    if isinstance(payload, Response):
        return payload
    record = protocol.invocation(*payload)
    excluded = request.query_params.getlist("excluded")
    registry.send(hub, record, excluded=excluded, **address)
    return _status(202)


def _found(found: bool) -> Response:
    return _status(200 if found else 404)


@api
async def broadcast(request: Request, registry: Registry, hub: str) -> Response:
    return await _send(request, registry, hub)


@api
async def user(request: Request, registry: Registry, hub: str) -> Response:
    user_id = request.path_params["user"]
    if request.method == "POST":
        return await _send(request, registry, hub, user_id=user_id)
    return _found(bool(registry.select(hub, user_id=user_id)))


@api
async def user_groups(request: Request, registry: Registry, hub: str) -> Response:
    registry.leave_all(hub, request.path_params["user"])
    return _status(200)


@api
async def connection(request: Request, registry: Registry, hub: str) -> Response:
    connection_id = request.path_params["connection"]
    if request.method == "POST":
        return await _send(request, registry, hub, connection_id=connection_id)
    client = registry.get(hub, connection_id)
    if request.method == "DELETE":
        if client is not None:
            client.end(protocol.close(request.query_params.get("reason") or None))
        return _status(202)
    return _found(client is not None)


@api
async def group(request: Request, registry: Registry, hub: str) -> Response:
    name = request.path_params["group"]
    if request.method == "POST":
        return await _send(request, registry, hub, group=name)
    return _found(bool(registry.select(hub, group=name)))


@api
async def group_connection(request: Request, registry: Registry, hub: str) -> Response:
    params = request.path_params
    return _found(registry.join(hub, params["group"], params["connection"], request.method == "PUT"))


@api
async def group_user(request: Request, registry: Registry, hub: str) -> Response:
    params = request.path_params
    if request.method in ("GET", "HEAD"):
        return _found(registry.user_in_group(hub, params["group"], params["user"]))
    registry.join_user(hub, params["group"], params["user"], request.method == "PUT")
    return _status(202)


async def health(request: Request) -> Response:
    """Readiness probe (`GET|HEAD /api/v1/health`, `/api/health`), no auth, as in Azure."""
    return _status(200)


async def connections(request: Request) -> Response:
    """Devstack-only, unauthenticated: connected clients (optionally `?hub=`), for tests."""
    registry: Registry = request.app.state.signalr.registry
    return JSONResponse(registry.connections(request.query_params.get("hub")))


HUB = "/api/v1/hubs/{hub}"
ROUTES = [
    Route("/api/v1/health", health, methods=["GET", "HEAD"]),
    Route("/api/health", health, methods=["GET", "HEAD"]),
    Route("/devstack/connections", connections, methods=["GET"]),
    Route(HUB, broadcast, methods=["POST"]),
    Route(HUB + "/users/{user}", user, methods=["POST", "GET", "HEAD"]),
    Route(HUB + "/users/{user}/groups", user_groups, methods=["DELETE"]),
    Route(HUB + "/connections/{connection}", connection, methods=["POST", "GET", "HEAD", "DELETE"]),
    Route(HUB + "/groups/{group}", group, methods=["POST", "GET", "HEAD"]),
    Route(HUB + "/groups/{group}/connections/{connection}", group_connection, methods=["PUT", "DELETE"]),
    Route(HUB + "/groups/{group}/users/{user}", group_user, methods=["PUT", "DELETE", "GET", "HEAD"]),
]
