"""What every request handler sees: one client connection and the gateway's shared state.

Its own module so that the handlers, the streaming and the order book depend on it, and the
server on all of them, with no loop back to the server.
"""

from __future__ import annotations

import asyncio
import time as _time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from devstack.ibgateway import wire
from devstack.ibgateway.book import OrderBook
from devstack.ibgateway.market import Quote, SimMarket

MAX_MESSAGES_PER_SECOND = 50  # TWS's client message rate; beyond it error 100

Handler = Callable[["Connection", list[str]], "Awaitable[None] | None"]


@dataclass
class Subscription:
    """One reqMktData line of one connection; ``sent`` is the last state put on the wire."""

    req_id: int
    con_id: int
    generic: frozenset[str]
    delayed: bool
    sent: Quote | None = None
    greeks: bool = True


class GatewayState:
    """The gateway as its handlers read and change it: market, account, order ids, lines, pauses.

    ``entitlement``: ``"live"`` streams live data; ``"delayed"`` answers live requests with 354
    and delayed ones (market data type 3/4) with 10167 plus delayed tick types.
    ``read_only = True`` refuses orders with error 321, like the API's "Read-Only" setting.
    """

    def __init__(self, market: SimMarket, *, max_lines: int, entitlement: str, account: str,
                 clock_start: datetime | None) -> None:
        if entitlement not in ("live", "delayed"):
            raise ValueError("entitlement must be 'live' or 'delayed'")
        self.market = market
        self.max_lines = max_lines
        self.entitlement = entitlement
        self.account = account
        self.clock_start = clock_start
        self.next_order_id = 1
        self.read_only = False
        self.order_book = OrderBook()  # across connections: a restarted client sees its orders
        self.connections: list[Connection] = []
        self.paused: set[str] = set()  # reasons data is not flowing: connectivity, farm, competing
        self.paced = 0
        self._t0 = _time.monotonic()

    def now(self) -> datetime:
        """The gateway's clock: real time, or ``clock_start`` advancing in real time."""
        if self.clock_start is None:
            return datetime.now(timezone.utc)
        return self.clock_start + timedelta(seconds=_time.monotonic() - self._t0)

    def lines(self) -> int:
        return sum(len(c.subscriptions) for c in self.connections)


class Connection:
    """One client socket: framing, the pacing counter and its market-data lines."""

    def __init__(self, gateway: GatewayState, writer: asyncio.StreamWriter) -> None:
        self.gateway = gateway
        self.writer = writer
        self.client_id: int | None = None
        self.server_version = wire.SERVER_VERSION
        self.market_data_type = 1
        self.subscriptions: dict[int, Subscription] = {}
        self.received: list[list[str]] = []  # every client message, for tests
        self._times: deque[float] = deque()
        self._paced_at = 0.0

    def send(self, *fields: object) -> None:
        """Frame and write one message (no-op once the socket is closing)."""
        if not self.writer.is_closing():
            self.writer.write(wire.encode(*fields))

    def send_raw(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def error(self, req_id: int, code: int, message: str) -> None:
        self.send(4, 2, req_id, code, message, "")

    def pace(self) -> None:
        now = _time.monotonic()
        self._times.append(now)
        while self._times and now - self._times[0] > 1.0:
            self._times.popleft()
        if len(self._times) > MAX_MESSAGES_PER_SECOND and now - self._paced_at > 1.0:
            self._paced_at = now
            self.gateway.paced += 1
            self.error(-1, 100, f"Max rate of messages per second has been exceeded:max=50 rec={len(self._times)}")

    def abort(self) -> None:
        self.writer.transport.abort()
