"""A minimal SignalR subscriber in Python (JSON hub protocol over WebSockets) for the demo and benchmarks.

It follows the same flow as the JS client: ``POST /api/negotiate`` on the
Functions app gives ``{url, accessToken}``; the service's ``/client/negotiate``
gives a connection token; a WebSocket carries the handshake and invocations.
Tests of the dashboard use the real ``@microsoft/signalr`` client instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import websockets

RS = "\x1e"
PING_SECONDS = 15.0


async def subscribe(api: str, function_key: str) -> AsyncIterator[tuple[str, list]]:
    """Yield (target, arguments) for every invocation the hub pushes, until cancelled."""
    async with httpx.AsyncClient(timeout=10) as http:
        info = (await http.post(f"{api}/negotiate", headers={"x-functions-key": function_key})).raise_for_status()
        url, token = info.json()["url"], info.json()["accessToken"]
        parts = urlsplit(url)
        neg = await http.post(urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/negotiate",
                                                        query=parts.query + "&negotiateVersion=1")),
                              headers={"Authorization": f"Bearer {token}"})
        conn_token = neg.raise_for_status().json()["connectionToken"]
    query = parts.query + "&" + urlencode({"id": conn_token, "access_token": token})
    ws_url = urlunsplit(parts._replace(scheme="ws" if parts.scheme == "http" else "wss", query=query))
    async with websockets.connect(ws_url, max_size=2**24) as ws:
        await ws.send(json.dumps({"protocol": "json", "version": 1}) + RS)
        pinger = asyncio.create_task(_ping(ws))  # the protocol drops clients that stay silent
        try:
            async for target, args in _invocations(ws):
                yield target, args
        finally:
            pinger.cancel()


async def _ping(ws: websockets.ClientConnection, every: float = PING_SECONDS) -> None:
    while True:
        await asyncio.sleep(every)
        await ws.send(json.dumps({"type": 6}) + RS)


async def _invocations(ws: websockets.ClientConnection) -> AsyncIterator[tuple[str, list]]:
    buffer = ""
    handshaken = False
    async for frame in ws:
        buffer += frame if isinstance(frame, str) else frame.decode()
        *records, buffer = buffer.split(RS)
        for record in records:
            msg = json.loads(record)
            if not handshaken:
                if msg.get("error"):
                    raise ConnectionError(f"SignalR handshake refused: {msg['error']}")
                handshaken = True
            elif msg.get("type") == 1:
                yield msg["target"], msg.get("arguments", [])
            elif msg.get("type") == 7:
                return
