"""Signals in: SignalR (hub ``spyglass``, target ``signal``) via pysignalr, plus a REST catch-up on every connect.

Connect flow, as the JS client does in serverless mode: ``POST {api}/negotiate``
with the function key gives ``{url, accessToken}``; pysignalr then negotiates
with the SignalR service itself and opens the WebSocket (the function key never
reaches the service). A lost connection ends the client; we negotiate again
with backoff, because the old connection id and token are spent.

Every ``on_open`` starts a catch-up from the ledger's mark, so what was
published while we were away is fetched from the signals table; live and
caught-up copies of a signal meet in the bot's persisted dedupe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from pysignalr.client import SignalRClient

from edge.bot import catchup
from spyglass.wire import realtime

log = logging.getLogger("spyglass.bot.feed")


class SignalFeed:
    """Puts ``(signal_dict, source)`` on ``queue``; ``source`` is ``signalr`` or ``catchup``."""

    def __init__(self, api: str, function_key: str, underlying: str, queue: asyncio.Queue,
                 mark: Callable[[], datetime | None], clock: Callable[[], datetime], ttl_seconds: float,
                 max_backoff: float = 30.0) -> None:
        self.api, self.key, self.underlying = api.rstrip("/"), function_key, underlying
        self.queue, self.mark, self.clock, self.ttl = queue, mark, clock, ttl_seconds
        self.max_backoff = max_backoff
        self.connected = False
        self.attempts = 0  # negotiations started
        self.connects = 0  # successful (re)connects, each followed by a catch-up
        self.caught_up = 0  # signals fetched by catch-ups
        self._tasks: set[asyncio.Task] = set()

    async def _negotiate(self, http: httpx.AsyncClient) -> dict[str, Any]:
        r = await http.post(f"{self.api}/negotiate", headers=catchup.key_header(self.key))
        r.raise_for_status()
        info = r.json()
        if not info.get("url") or not info.get("accessToken"):
            raise ValueError("negotiate answered without url and accessToken")
        return info

    async def run(self, stop: asyncio.Event) -> None:
        delay = 0.5
        async with httpx.AsyncClient(timeout=15) as http:
            while not stop.is_set():
                before = self.connects
                self.attempts += 1
                try:
                    info = await self._negotiate(http)
                    client = SignalRClient(info["url"], headers={"Authorization": f"Bearer {info['accessToken']}"},
                                           retry_count=1)
                    client.on(realtime.SIGNAL, self._on_signal)
                    client.on(realtime.OUTCOME, self._on_outcome)
                    client.on_open(lambda: self._on_open(http))
                    client.on_close(self._on_close)
                    runner = asyncio.create_task(client.run())
                    stopper = asyncio.create_task(stop.wait())
                    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    for t in (runner, stopper):
                        t.cancel()
                    await asyncio.gather(runner, stopper, return_exceptions=True)
                    if runner in done and runner.exception() is not None:
                        raise runner.exception()
                except Exception as exc:  # noqa: BLE001 - any failure means: wait, negotiate again
                    log.warning("signal feed: %s: %s; negotiating again", type(exc).__name__, exc)
                self.connected = False
                if self.connects > before:
                    delay = 0.5  # this attempt had connected: the backoff starts again
                if stop.is_set():
                    break
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                delay = min(delay * 2, self.max_backoff)

    async def _on_signal(self, arguments: list[Any]) -> None:
        for a in arguments:
            await self.queue.put((a, "signalr"))

    async def _on_outcome(self, arguments: list[Any]) -> None:
        for a in arguments:
            await self.queue.put((a, "outcome"))

    async def _on_open(self, http: httpx.AsyncClient) -> None:
        self.connected = True
        self.connects += 1
        t = asyncio.create_task(self._catch_up(http))  # not inline: the receive loop must keep running
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)

    async def _on_close(self) -> None:
        self.connected = False

    async def _catch_up(self, http: httpx.AsyncClient) -> None:
        since = catchup.since_for(self.mark(), self.clock(), self.ttl)
        try:
            items = await catchup.fetch_since(http, self.api, self.key, since, self.underlying)
        except (catchup.CatchupError, httpx.HTTPError) as exc:
            log.warning("catch-up from %s failed: %s (the next connect retries)", since.isoformat(), exc)
            return
        self.caught_up += len(items)
        for item in items:
            await self.queue.put((item, "catchup"))
