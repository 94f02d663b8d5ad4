"""Client endpoints: `POST /client/negotiate?hub=H` and the WebSocket at `/client/?hub=H`.

Clients are listen-only (serverless mode): any hub message other than ping/close from a
client is an invalid operation, so the connection is closed with an error, as Azure
SignalR Service does ("disconnects any client that sends messages").
"""

from __future__ import annotations

import asyncio
import secrets
from contextlib import suppress
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import protocol
from .auth import AuthError, bearer_token, request_base, user_id, verify
from .hub import Client, valid_hub
from .settings import ServiceState

MAX_BUFFER = 1 << 20
"""Largest unterminated client record accepted (bytes of text)."""

LISTEN_ONLY = ("Client invocations are not supported: the hub is in serverless mode and the "
               "connection can only receive messages.")


def client_audiences(scope: Any, hub: str, state: ServiceState) -> set[str]:
    """Valid `aud` values of a client token: `<endpoint>/client/?hub=<hub>`."""
    bases = {request_base(scope), *state.settings.endpoints}
    return {f"{base.rstrip('/')}/client/?hub={hub}" for base in bases}


async def negotiate(request: Request) -> Response:
    """Validate the client token and reserve a connection (negotiate v1, or v0 if asked)."""
    state: ServiceState = request.app.state.signalr
    hub = request.query_params.get("hub")
    if not valid_hub(hub):
        return PlainTextResponse("A valid 'hub' query parameter is required.", status_code=400)
    assert hub is not None
    token = bearer_token(request.headers, request.query_params)
    try:
        claims = verify(token, state.settings.access_key, client_audiences(request.scope, hub, state))
    except AuthError as exc:
        return PlainTextResponse(f"Unauthorized: {exc}", status_code=401,
                                 headers={"WWW-Authenticate": "Bearer"})
    version = 1 if request.query_params.get("negotiateVersion", "0") not in ("", "0") else 0
    connection_id, connection_token = state.registry.negotiate(hub, user_id(claims), same=version == 0)
    body: dict[str, Any] = {"negotiateVersion": version, "connectionId": connection_id}
    if version:
        body["connectionToken"] = connection_token
    body["availableTransports"] = [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}]
    return JSONResponse(body)


async def _deny(ws: WebSocket, status: int, reason: str) -> None:
    """Refuse the upgrade with an HTTP status (falls back to a 1008 close)."""
    try:
        await ws.send_denial_response(PlainTextResponse(reason, status_code=status))
    except RuntimeError:
        await ws.close(code=1008, reason=reason[:120])


async def _receive_text(ws: WebSocket) -> str | None:
    """Next frame as text (binary frames are UTF-8 JSON too); None once disconnected."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        return None
    if message.get("text") is not None:
        return str(message["text"])
    return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")


async def _handshake(ws: WebSocket) -> tuple[str | None, list[str], str]:
    """Read the handshake record: (error or None, records after it, unterminated rest)."""
    buffer = ""
    while True:
        text = await _receive_text(ws)
        if text is None:
            raise ConnectionError("client left before the handshake")
        buffer += text
        records, buffer = protocol.split_records(buffer)
        if records:
            return protocol.parse_handshake(records[0]), records[1:], buffer
        if len(buffer) > MAX_BUFFER:
            return "Handshake request is too large.", [], ""


def _handle(record: str) -> tuple[bool, str | None]:
    """React to one client record: (stop?, final record to send before closing)."""
    try:
        message = protocol.parse_message(record)
    except protocol.ProtocolError as exc:
        return True, protocol.close(f"Connection closed with an error. {exc}")
    kind = message["type"]
    if kind == protocol.MessageType.CLOSE:
        return True, None
    if protocol.MessageType.INVOCATION <= kind <= protocol.MessageType.CANCEL_INVOCATION:
        return True, protocol.close(LISTEN_ONLY)
    return False, None  # ping, ack, sequence, unknown future types: nothing to do


async def _read_loop(ws: WebSocket, client: Client, records: list[str], buffer: str,
                     timeout: float) -> None:
    """Consume client records until the client leaves, errs or goes silent."""
    final: str | None = None
    try:
        while True:
            for record in records:
                stop, final = _handle(record)
                if stop:
                    return
            try:
                text = await asyncio.wait_for(_receive_text(ws), timeout)
            except TimeoutError:
                final = protocol.close("Client timeout elapsed without receiving a message from the client.")
                return
            if text is None:
                return
            records, buffer = protocol.split_records(buffer + text)
            if len(buffer) > MAX_BUFFER:
                final = protocol.close("Connection closed with an error. Message too large.")
                return
    finally:
        client.end(final)


async def _write_loop(ws: WebSocket, client: Client, keep_alive: float) -> None:
    """Send queued records in order; a ping whenever nothing was sent for `keep_alive` s."""
    while True:
        try:
            record = await asyncio.wait_for(client.outbox.get(), keep_alive)
        except TimeoutError:
            record = protocol.PING
        if record is None:
            break
        try:
            await ws.send_text(record)
        except (OSError, RuntimeError, WebSocketDisconnect):  # the peer is gone
            return
    with suppress(Exception):
        await ws.close(1000)


async def client_socket(ws: WebSocket) -> None:
    """Authenticate, claim the negotiated connection, handshake, then serve the client."""
    state: ServiceState = ws.app.state.signalr
    settings, registry = state.settings, state.registry
    hub = ws.query_params.get("hub")
    if not hub or not valid_hub(hub):
        return await _deny(ws, 400, "A valid 'hub' query parameter is required.")
    token = bearer_token(ws.headers, ws.query_params)
    try:
        claims = verify(token, settings.access_key, client_audiences(ws.scope, hub, state))
    except AuthError as exc:
        return await _deny(ws, 401, f"Unauthorized: {exc}")
    connection_token = ws.query_params.get("id")
    if connection_token:
        pending = registry.claim(connection_token, hub)
        if pending is None:
            return await _deny(ws, 404, "No Connection with that ID")
        connection_id, user = pending.connection_id, pending.user_id or user_id(claims)
    else:  # skipNegotiation-style direct WebSocket, as ASP.NET Core allows
        connection_id, user = secrets.token_urlsafe(16), user_id(claims)
    await ws.accept()
    try:
        error, records, buffer = await asyncio.wait_for(_handshake(ws), settings.handshake_timeout)
    except (TimeoutError, ConnectionError):
        with suppress(Exception):
            await ws.close(1000)
        return
    if error:
        with suppress(Exception):
            await ws.send_text(protocol.handshake_response(error))
            await ws.close(1000)
        return
    client = Client(connection_id, hub, user)
    client.push(protocol.handshake_response())  # queued first: registered before the client sees it
    registry.add(client)
    reader = asyncio.create_task(_read_loop(ws, client, records, buffer, settings.client_timeout))
    try:
        await _write_loop(ws, client, settings.keep_alive)
    finally:
        reader.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await reader
        registry.remove(client)
        client.done.set()
