"""A faithful fake IB Gateway: the TWS API text protocol over asyncio, at server version 178.

Tests and the demo point the real ib_async client at it. It speaks the handshake
(``API\\0`` + version range), startApi, managedAccounts/nextValidId and the startup sync,
contract details, option parameters, market-data type and streaming market data
(tickPrice, tickSize, tickOptionComputation, tickGeneric, tickString) driven by the project's
simulator, with the errors a collector must survive (101, 200, 354, 10167, 10197,
1100/1101/1102, 2103/2104, 100 for pacing) and disconnects on command.

Extending it: the dispatch table maps a client message id to a handler
``handler(conn, fields)`` (``fields[0]`` is the id; return None or an awaitable).
``FakeGateway.register_default(msg_id, handler)`` adds one for every gateway created later
(e.g. ``devstack/ibgateway/orders.py`` registers placeOrder at import), ``gateway.register(...)``
for one instance. A handler answers with ``conn.send(*fields)`` (one framed message) and can
reach the gateway (``conn.gateway``: ``market``, ``account``, ``next_order_id``) and the
connection's state (``conn.client_id``, ``conn.subscriptions``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import struct
import time as _time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

from devstack.ibgateway import handlers, wire
from devstack.ibgateway.market import SimMarket
from devstack.ibgateway.streaming import Subscription, push
from spyglass.clock import NEW_YORK as _NY

log = logging.getLogger("devstack.ibgateway")

SERVER_VERSION = 178  # ib_async's MaxClientVersion; above 200 the wire turns protobuf
MAX_MESSAGES_PER_SECOND = 50  # TWS's client message rate; beyond it error 100

Handler = Callable[["Connection", list[str]], "Awaitable[None] | None"]


class Connection:
    """One client socket: framing, the pacing counter and its market-data lines."""

    def __init__(self, gateway: FakeGateway, writer: asyncio.StreamWriter) -> None:
        self.gateway = gateway
        self.writer = writer
        self.client_id: int | None = None
        self.server_version = SERVER_VERSION
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


class FakeGateway:
    """The server. ``await start()``, point ib_async at ``port``, ``await stop()``.

    Control hooks for tests: ``drop_connections()``, ``emit_error(code)``, ``connectivity_lost()``,
    ``connectivity_restored(data_lost)``, ``farm(ok)``, ``competing_session()``, ``restart()``.
    ``entitlement``: ``"live"`` streams live data; ``"delayed"`` answers live requests with 354
    and delayed ones (market data type 3/4) with 10167 plus delayed tick types.
    """

    default_handlers: dict[int, Handler] = {}

    def __init__(
        self,
        market: SimMarket | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cadence: float = 0.1,
        max_lines: int = 100,
        entitlement: str = "live",
        account: str = "DU1234567",
        clock_start: datetime | None = None,
        full_refresh: bool = False,
    ) -> None:
        if entitlement not in ("live", "delayed"):
            raise ValueError("entitlement must be 'live' or 'delayed'")
        self.host, self.port = host, port
        self.cadence = cadence
        self.max_lines = max_lines
        self.entitlement = entitlement
        self.account = account
        self.full_refresh = full_refresh
        self.clock_start = clock_start
        self._t0 = _time.monotonic()
        self.market = market or today_market(self.now())
        self.next_order_id = 1
        self.handlers: dict[int, Handler] = {**_BUILTIN, **self.default_handlers}
        self.connections: list[Connection] = []
        self.received: list[list[str]] = []  # every client message on every connection, for tests
        self.paused: set[str] = set()  # reasons data is not flowing: connectivity, farm, competing
        self.paced = 0
        self.ticks_sent = 0
        self._server: asyncio.base_events.Server | None = None
        self._pump: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    # --- extension -----------------------------------------------------------------------
    @classmethod
    def register_default(cls, msg_id: int, handler: Handler) -> None:
        cls.default_handlers = {**cls.default_handlers, msg_id: handler}

    def register(self, msg_id: int, handler: Handler) -> None:
        self.handlers[msg_id] = handler

    # --- lifecycle -----------------------------------------------------------------------
    def now(self) -> datetime:
        """The gateway's clock: real time, or ``clock_start`` advancing in real time."""
        if self.clock_start is None:
            return datetime.now(timezone.utc)
        return self.clock_start + timedelta(seconds=_time.monotonic() - self._t0)

    async def start(self) -> FakeGateway:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._pump is None:
            self._pump = asyncio.create_task(self._run_market())
        log.info("fake IB Gateway on %s:%d (server version %d)", self.host, self.port, SERVER_VERSION)
        return self

    async def stop(self, *, keep_market: bool = False) -> None:
        if self._server is not None:
            self._server.close()
            for c in list(self.connections):
                c.abort()
            await self._server.wait_closed()
            self._server = None
        if not keep_market and self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def restart(self, down_for: float = 0.0) -> None:
        """Like the nightly reset: every socket drops, the port refuses, then listens again."""
        await self.stop(keep_market=True)
        await asyncio.sleep(down_for)
        await self.start()

    async def __aenter__(self) -> FakeGateway:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- control hooks ---------------------------------------------------------------------
    def drop_connections(self) -> None:
        for c in list(self.connections):
            c.abort()

    def emit_error(self, code: int, message: str = "", req_id: int = -1) -> None:
        for c in self.connections:
            c.error(req_id, code, message or _MESSAGES.get(code, "error"))

    def connectivity_lost(self) -> None:
        self.paused.add("connectivity")
        self.emit_error(1100)

    def connectivity_restored(self, data_lost: bool) -> None:
        """1101: restored, market-data subscriptions gone; 1102: restored, data maintained."""
        self.paused.discard("connectivity")
        if data_lost:
            for c in self.connections:
                c.subscriptions.clear()
        self.emit_error(1101 if data_lost else 1102)

    def farm(self, ok: bool) -> None:
        """2103 (farm broken, data stalls) or 2104 (farm OK, data resumes)."""
        (self.paused.discard if ok else self.paused.add)("farm")
        self.emit_error(2104 if ok else 2103)

    def competing_session(self, active: bool = True) -> None:
        """10197 per line while another session of the same user takes the live data."""
        (self.paused.add if active else self.paused.discard)("competing")
        if active:
            for c in self.connections:
                for req_id in c.subscriptions:
                    c.error(req_id, 10197, _MESSAGES[10197])

    def lines(self) -> int:
        return sum(len(c.subscriptions) for c in self.connections)

    # --- serving -------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, writer)
        try:
            if await reader.readexactly(4) != wire.MAGIC:
                writer.close()
                return
            (n,) = struct.unpack(">I", await reader.readexactly(4))
            lo, hi = wire.parse_version_range((await reader.readexactly(n)).decode())
            if hi < 157 or lo > SERVER_VERSION:
                writer.close()
                return
            conn.server_version = min(hi, SERVER_VERSION)
            stamp = self.now().astimezone(_NY).strftime("%Y%m%d %H:%M:%S US/Eastern")
            conn.send(conn.server_version, stamp)
            self.connections.append(conn)
            frames = wire.FrameReader()
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for fields in frames.feed(data):
                    conn.pace()
                    conn.received.append(fields)
                    self.received.append(fields)
                    await self._dispatch(conn, fields)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            log.debug("connection ended: %r", exc)
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
            writer.close()

    async def _dispatch(self, conn: Connection, fields: list[str]) -> None:
        try:
            handler = self.handlers.get(int(fields[0]))
        except (ValueError, IndexError):
            log.warning("unparseable message %r", fields[:3])
            return
        if handler is None:
            log.debug("no handler for message %s", fields[0])
            return
        try:
            result = handler(conn, fields)
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001 - a bad request must not kill the gateway
            log.exception("handler for message %s failed on %r", fields[0], fields[:6])

    async def _run_market(self) -> None:
        """Step the simulator every ``cadence`` s and stream the changes of every line."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            if self.cadence > 0:
                next_at += self.cadence
                await asyncio.sleep(max(0.0, next_at - loop.time()))
            if not self.market.step() and self.full_refresh:
                await asyncio.sleep(0.01)
            if self.paused:
                continue
            for conn in list(self.connections):
                self.ticks_sent += push(conn, self.market, full=self.full_refresh)
                if self.cadence == 0 or conn.writer.transport.get_write_buffer_size() > 1 << 20:
                    try:
                        await conn.writer.drain()
                    except ConnectionError:
                        pass
            if self.cadence == 0:
                await asyncio.sleep(0)


_MESSAGES = handlers.MESSAGES


def today_market(clock_now: datetime, **kw: object) -> SimMarket:
    """A simulated market for ``clock_now``'s New York date, starting at its time of day."""
    ny = clock_now.astimezone(_NY)
    return SimMarket(ny.date(), ny.time().replace(microsecond=0), **kw)  # type: ignore[arg-type]


_BUILTIN: dict[int, Handler] = handlers.HANDLERS
