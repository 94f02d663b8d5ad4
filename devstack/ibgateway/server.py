"""A faithful fake IB Gateway: the TWS API text protocol over asyncio, at server version 178.

Tests and the demo point the real ib_async client at it. It speaks the handshake
(``API\\0`` + version range), startApi, managedAccounts/nextValidId and the startup sync,
contract details, option parameters, market-data type and streaming market data
(tickPrice, tickSize, tickOptionComputation, tickGeneric, tickString) driven by the project's
simulator, with the errors a collector must survive (101, 200, 354, 10167, 10197,
1100/1101/1102, 2103/2104, 100 for pacing) and disconnects on command.

Handlers: the dispatch table maps a client message id to a handler ``handler(conn, fields)``
(``fields[0]`` is the id; return None or an awaitable). Every gateway starts from
``DEFAULT_HANDLERS``: ``handlers.HANDLERS`` (session, contracts, market data) plus
``orders.HANDLERS``, composed here, so what a gateway answers never depends on what else was
imported. ``gateway.register(msg_id, handler)`` adds or replaces one for one instance. A
handler answers with ``conn.send(*fields)`` (one framed message) and reaches the gateway's
state through ``conn.gateway`` (a ``connection.GatewayState``) and the connection's through
``conn.client_id`` and ``conn.subscriptions``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import struct
from collections.abc import Mapping
from datetime import datetime, timezone

from devstack.ibgateway import handlers, orders, wire
from devstack.ibgateway.connection import Connection, GatewayState, Handler
from devstack.ibgateway.market import SimMarket, today_market
from devstack.ibgateway.streaming import push
from devstack.ibgateway.wire import SERVER_VERSION
from spyglass.clock import NEW_YORK

log = logging.getLogger("devstack.ibgateway")

DEFAULT_HANDLERS: Mapping[int, Handler] = {**handlers.HANDLERS, **orders.HANDLERS}


class FakeGateway(GatewayState):
    """The server. ``await start()``, point ib_async at ``port``, ``await stop()``.

    Control hooks for tests: ``drop_connections()``, ``emit_error(code)``, ``connectivity_lost()``,
    ``connectivity_restored(data_lost)``, ``farm(ok)``, ``competing_session()``, ``restart()``.
    The state handlers share (market, account, entitlement, order book...) is ``GatewayState``'s.
    """

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
        market = market or today_market(clock_start or datetime.now(timezone.utc))
        super().__init__(market, max_lines=max_lines, entitlement=entitlement, account=account,
                         clock_start=clock_start)
        self.host, self.port = host, port
        self.cadence = cadence
        self.full_refresh = full_refresh
        self.handlers: dict[int, Handler] = dict(DEFAULT_HANDLERS)
        self.received: list[list[str]] = []  # every client message on every connection, for tests
        self.ticks_sent = 0
        self._server: asyncio.base_events.Server | None = None
        self._pump: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    def register(self, msg_id: int, handler: Handler) -> None:
        """Add or replace the handler of one client message on this gateway only."""
        self.handlers[msg_id] = handler

    # --- lifecycle -----------------------------------------------------------------------
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
            c.error(req_id, code, message or handlers.MESSAGES.get(code, "error"))

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
                    c.error(req_id, 10197, handlers.MESSAGES[10197])

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
            stamp = self.now().astimezone(NEW_YORK).strftime("%Y%m%d %H:%M:%S US/Eastern")
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
