"""The ``ibkr`` source: IB Gateway through ib_async (read-only), as chain snapshots.

Thin on purpose: the choices live in pure modules (``chain`` for discovery, ``window`` for the
line budget, ``quotes`` for sentinels and snapshots, ``hours`` for gating, ``codes`` for errors).
What happens here is the order of calls and the recovery:

- connect read-only, retry with capped exponential backoff and jitter;
- ``reqSecDefOptParams`` -> today's expiry (idle with a reason when there is none);
- one ``reqContractDetails`` for that expiry -> strikes, conIds, trading hours (the close);
- gate on the expiry day's liquid hours;
- ``reqMarketDataType`` then the underlying plus an ATM window of options, every request paced;
- every ``scan_interval``: re-centre if spot moved, then build and emit one snapshot;
- 1101 and every reconnect: send ``reqMarketDataType`` again and resubscribe everything
  (neither TWS nor ib_async keeps subscriptions; ib_async even clears its tickers).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.collector import metrics
from edge.collector.chain import Listing, listing_from_details, pick_expiry, upcoming
from edge.collector.ibkr_errors import UNDERLYING, ErrorHandling
from edge.collector.quotes import Quote, build_snapshot, spot_from
from edge.collector.source import Sink, utc_now
from edge.collector.window import Line, RequestPacer, needs_recentre, option_budget, plan, window
from spyglass.clock import NEW_YORK

log = logging.getLogger("edge.collector.ibkr")

TICK_MESSAGES = (1, 2, 21, 45, 46)  # tickPrice, tickSize, tickOptionComputation, tickGeneric, tickString


@dataclass
class IbkrConfig:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 17
    underlying: str = "SPY"
    exchange: str = "SMART"
    currency: str = "USD"
    lines: int = 100  # market-data line allowance: underlying + options + one spare
    scan_interval: float = 1.0
    request_rate: float = 30.0  # subscribe/cancel requests/s: with the rest of the traffic, under IB's 50
    request_burst: float = 10.0
    hysteresis: int = 2  # strikes spot may drift from the window's centre before it moves
    market_data_type: int = 1  # 1 live; falls back to 3 (delayed) on 354
    underlying_ticks: str = "100,101,104,106"
    option_ticks: str = "101"  # open interest; only streaming requests carry it
    connect_timeout: float = 10.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    idle_recheck: float = 300.0  # seconds between looks when idle (no 0DTE, closed)
    stale_after: float = 15.0  # no tick for this long in market hours -> not ready
    source: str = "ibkr"  # the snapshots' source; "ibkr-sim" when the gateway serves a simulated market (the demo)


def backoff(initial: float, cap: float, attempt: int, rng: random.Random | None = None) -> float:
    """Capped exponential delay with +-20% jitter (many edge boxes must not retry in step)."""
    return min(cap, initial * 2 ** max(0, attempt)) * (rng or random).uniform(0.8, 1.2)


class IbkrSource(ErrorHandling):
    name = "ibkr"

    def __init__(self, config: IbkrConfig | None = None, *, now: Callable[[], datetime] = utc_now,
                 ib_factory: Callable[[], Any] | None = None) -> None:
        self.cfg = config or IbkrConfig()
        self.now = now
        self._ib_factory = ib_factory
        self.ib: Any = None
        self.listing: Listing | None = None
        self.budget = option_budget(self.cfg.lines)
        self.pacer = RequestPacer(self.cfg.request_rate, self.cfg.request_burst)
        self.mdt = self.cfg.market_data_type
        self.active: dict[Line, Any] = {}  # line -> ib_async Ticker
        self.pending_sub: list[Line] = []
        self.pending_cancel: list[Line] = []
        self.seq = 0
        self.scans = 0
        self.ticks = 0
        self._ticks_seen = 0
        self.last_tick = 0.0  # monotonic time of the latest tick message
        self.delayed = False
        self.ib_link = True  # False between 1100 and 1101/1102
        self.farm_ok = True
        self.competing = False
        self.competing_ticks = 0
        self.state = "starting"
        self.idle = False
        self.connects = 0
        self.resubscribes = 0
        self.errors: list[tuple[int, int]] = []  # (reqId, code), newest last, for tests and logs
        self._resubscribe_due = False
        self._down = asyncio.Event()

    # --- readiness -------------------------------------------------------------------------
    def readiness(self) -> tuple[bool, str]:
        if self.ib is None or not self.ib.isConnected():
            return False, f"not connected to IB Gateway ({self.state})"
        if self.idle:
            return True, self.state
        if not self.ib_link:
            return False, "IB Gateway lost its link to IB (1100)"
        if self.competing:
            return False, "competing live session (10197)"
        age = time.monotonic() - self.last_tick if self.last_tick else None
        if age is None or age > self.cfg.stale_after:
            return False, f"no market data for {'ever' if age is None else f'{age:.0f} s'} ({self.state})"
        return True, self.state + (" (delayed data)" if self.delayed else "")

    # --- main loop -------------------------------------------------------------------------
    async def run(self, emit: Sink, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await self._connect()
            except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
                delay = backoff(self.cfg.backoff_initial, self.cfg.backoff_max, attempt)
                attempt += 1
                self.state = f"connect to {self.cfg.host}:{self.cfg.port} failed ({exc!r}); retry in {delay:.1f} s"
                log.warning(self.state)
                await self._wait(stop, delay, watch_down=False)
                continue
            began = time.monotonic()
            try:
                await self._session(emit, stop)
            except (asyncio.TimeoutError, ConnectionError, OSError) as exc:
                log.warning("IB Gateway session ended: %r", exc)
            except Exception:  # noqa: BLE001 - never let one bad answer end the collector
                log.exception("unexpected error in the IB Gateway session; reconnecting")
                if self.ib is not None:
                    self.ib.disconnect()
            finally:
                metrics.CONNECTED.set(0)
                metrics.MARKET_DATA_LINES.set(0)
                if self.ib is not None and self.ib.isConnected() and stop.is_set():
                    self.ib.disconnect()
            if not stop.is_set():
                # a session that lasted is a fresh start; one that drops at once backs off like a refusal
                attempt = 0 if time.monotonic() - began > 60 else attempt + 1
                delay = backoff(self.cfg.backoff_initial, self.cfg.backoff_max, attempt - 1) if attempt else 0.0
                log.warning("IB Gateway connection lost; reconnecting%s", f" in {delay:.1f} s" if delay else "")
                await self._wait(stop, delay, watch_down=False)
        if self.ib is not None and self.ib.isConnected():
            self.ib.disconnect()

    async def _connect(self) -> None:
        from ib_async import IB
        from ib_async.ib import StartupFetchNONE

        if self.ib is None:
            self.ib = (self._ib_factory or IB)()
            self.ib.errorEvent += self._on_error
            self.ib.disconnectedEvent += self._down.set
        self.state = f"connecting to {self.cfg.host}:{self.cfg.port}"
        self._down.clear()
        await self.ib.connectAsync(self.cfg.host, self.cfg.port, clientId=self.cfg.client_id,
                                   timeout=self.cfg.connect_timeout, readonly=True, fetchFields=StartupFetchNONE)
        self._count_ticks()
        self.connects += 1
        self.ib_link = True
        metrics.CONNECTED.set(1)
        log.info("connected to IB Gateway %s:%d (server version %d)", self.cfg.host, self.cfg.port,
                 self.ib.client.serverVersion())
        # a new socket has no subscriptions (ib_async cleared its tickers too); a lowered budget
        # gets another chance (101 lowers it again if the allowance really is smaller)
        self.budget = option_budget(self.cfg.lines)
        self.active.clear()
        self.pending_cancel.clear()
        self.pending_sub.clear()

    def _count_ticks(self) -> None:
        """Count tick messages at the decoder (ib_async drops some, e.g. price 0, before any event)."""
        handlers = self.ib.client.decoder.handlers
        for msg_id in TICK_MESSAGES:
            inner = handlers[msg_id]
            if getattr(inner, "_spyglass_counted", False):
                continue

            def counted(fields: list[str], _inner: Callable = inner) -> None:
                self.ticks += 1
                _inner(fields)

            counted._spyglass_counted = True  # type: ignore[attr-defined]
            handlers[msg_id] = counted

    async def _wait(self, stop: asyncio.Event, seconds: float, watch_down: bool = True) -> None:
        """Sleep up to ``seconds``; wake early on stop or (``watch_down``) on a lost connection."""
        events = [stop] + ([self._down] if watch_down else [])
        waits = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waits, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    def _alive(self, stop: asyncio.Event) -> bool:
        return not stop.is_set() and not self._down.is_set() and self.ib.isConnected()

    async def _session(self, emit: Sink, stop: asyncio.Event) -> None:
        """One connection's life: discover, gate, stream; returns when it drops or on stop."""
        while self._alive(stop):
            today = self.now().astimezone(NEW_YORK).date()
            if self.listing is None or self.listing.expiry != today:
                self.listing = None
                if not await self._discover(today):
                    self.idle = True
                    await self._wait(stop, self.cfg.idle_recheck)
                    continue
            listing = self.listing
            session = listing.session
            now = self.now()
            if session is None or now >= session.close:
                self.idle = True
                self.state = (f"market closed for the {listing.underlying} {listing.expiry} expiry"
                              + (f" since {session.close.astimezone(NEW_YORK):%H:%M} New York" if session else ""))
                log.info(self.state)
                self._cancel_all()
                await self._wait(stop, self.cfg.idle_recheck)
                continue
            if now < session.open:
                self.idle = True
                wait = (session.open - now).total_seconds()
                self.state = f"waiting for the open at {session.open.astimezone(NEW_YORK):%H:%M} New York"
                log.info("%s (%.0f s)", self.state, wait)
                await self._wait(stop, min(wait, self.cfg.idle_recheck))
                continue
            self.idle = False
            await self._stream(emit, stop, session.close)

    async def _discover(self, today: Any) -> bool:
        """Find today's expiry and list it; False (with ``state`` saying why) when there is none."""
        from ib_async import Option, Stock

        cfg = self.cfg
        self.state = f"discovering the {cfg.underlying} {today} expiry"
        timeout = self.cfg.connect_timeout
        und = await asyncio.wait_for(
            self.ib.reqContractDetailsAsync(Stock(cfg.underlying, cfg.exchange, cfg.currency)), timeout)
        if not und:
            self.state = f"IB Gateway does not know {cfg.underlying} (no contract details)"
            log.error(self.state)
            return False
        self._und_contract = und[0].contract
        chains = await asyncio.wait_for(
            self.ib.reqSecDefOptParamsAsync(cfg.underlying, "", "STK", self._und_contract.conId), timeout)
        expiry = pick_expiry(chains, today, cfg.underlying, cfg.exchange)
        if expiry is None:
            nxt = ", ".join(upcoming(chains, today)) or "none listed"
            self.state = f"idle: no 0DTE {cfg.underlying} expiry today ({today}); next expirations: {nxt}"
            log.warning(self.state)
            return False
        details = await asyncio.wait_for(self.ib.reqContractDetailsAsync(
            Option(cfg.underlying, expiry, 0.0, "", cfg.exchange, tradingClass=cfg.underlying, currency=cfg.currency)),
            timeout * 3)
        try:
            self.listing = listing_from_details(cfg.underlying, today, details)
        except ValueError as exc:
            self.state = f"idle: {exc}"
            log.warning(self.state)
            return False
        close = self.listing.close()
        log.info("%s %s: %d strikes, close %s", cfg.underlying, expiry, len(self.listing.strikes),
                 close.astimezone(NEW_YORK).strftime("%H:%M New York") if close else "unknown (closed today)")
        return True

    # --- streaming -------------------------------------------------------------------------
    async def _stream(self, emit: Sink, stop: asyncio.Event, close: datetime) -> None:
        self.state = "streaming"
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        self._send_market_data_type()
        while self._alive(stop) and self.now() < close:
            if self._resubscribe_due:
                self._resubscribe()
            self._rebalance()
            if self.ib_link and not self.competing:  # else the book is frozen: say so, emit nothing
                self._emit(emit, close)
            else:
                self._note_ticks()
            self.scans += 1
            next_at += self.cfg.scan_interval
            await self._wait(stop, next_at - loop.time())
            if loop.time() > next_at + self.cfg.scan_interval:  # fell behind (e.g. the machine paused)
                next_at = loop.time()

    def _send_market_data_type(self) -> None:
        self.ib.reqMarketDataType(self.mdt)

    def _resubscribe(self) -> None:
        """After 1101 (or a fallback to delayed data): market data type again, then every line."""
        self._resubscribe_due = False
        self.resubscribes += 1
        lines = list(self.active) + [ln for ln in self.pending_sub if ln not in self.active]
        self.active.clear()
        self.pending_cancel.clear()
        self.pending_sub = lines
        self._send_market_data_type()
        log.info("resubscribing %d lines (market data type %d)", len(lines), self.mdt)

    def _rebalance(self) -> None:
        """Keep the underlying and the ATM window subscribed, spending requests under the pacer."""
        listing = self.listing
        if UNDERLYING not in self.active and UNDERLYING not in self.pending_sub:
            self.pending_sub.insert(0, UNDERLYING)
        und = self.active.get(UNDERLYING)
        spot = spot_from(und.bid, und.ask, und.last) if und is not None else None
        if spot is not None and listing.strikes:
            current = [ln for ln in list(self.active) + self.pending_sub if ln != UNDERLYING]
            if len(current) < self.budget and len(current) < 2 * len(listing.strikes) or needs_recentre(
                    listing.strikes, current, spot, self.cfg.hysteresis):
                desired = window(listing.strikes, spot, self.budget)
                move = plan(current, desired)
                self.pending_cancel += [ln for ln in move.cancel if ln not in self.pending_cancel]
                self.pending_sub = [ln for ln in self.pending_sub if ln not in move.cancel]
                self.pending_sub += [ln for ln in move.subscribe if ln not in self.pending_sub]
        n = self.pacer.take(len(self.pending_cancel) + len(self.pending_sub))
        while n > 0 and self.pending_cancel:
            n -= 1
            line = self.pending_cancel.pop(0)
            ticker = self.active.pop(line, None)
            if ticker is not None:
                self.ib.cancelMktData(ticker.contract)
        while n > 0 and self.pending_sub:
            n -= 1
            line = self.pending_sub.pop(0)
            if line == UNDERLYING:
                self.active[line] = self.ib.reqMktData(self._und_contract, self.cfg.underlying_ticks)
            elif line in listing.contracts:
                self.active[line] = self.ib.reqMktData(listing.contracts[line], self.cfg.option_ticks)
        metrics.MARKET_DATA_LINES.set(len(self.active))

    def _cancel_all(self) -> None:
        for ticker in self.active.values():
            self.ib.cancelMktData(ticker.contract)
        self.active.clear()
        self.pending_sub.clear()
        self.pending_cancel.clear()
        metrics.MARKET_DATA_LINES.set(0)

    def quotes(self) -> list[Quote]:
        out = []
        received = time.time()  # ib_async stamps each ticker with the arrival time of its newest data
        for (right, strike), t in self.active.items():
            if right == "U":
                continue
            oi = t.callOpenInterest if right == "C" else t.putOpenInterest
            age = (received - t.timestamp) * 1e3 if t.timestamp else None
            out.append(Quote(right, strike, t.bid, t.ask, t.last, t.volume, oi, t.bidSize, t.askSize, age))
        return out

    def _note_ticks(self) -> None:
        fresh = self.ticks - self._ticks_seen
        if fresh:
            metrics.TICKS.inc(fresh)
            self._ticks_seen = self.ticks
            self.last_tick = time.monotonic()
            if self.competing and self.ticks > self.competing_ticks:
                self.competing = False
                log.info("market data flows again after the competing session (10197)")

    def _emit(self, emit: Sink, close: datetime) -> None:
        self._note_ticks()
        und = self.active.get(UNDERLYING)
        if und is None:
            return
        t0 = time.perf_counter()
        delayed = self.delayed or any(getattr(t, "marketDataType", 1) in (3, 4) for t in self.active.values())
        snap = build_snapshot(
            underlying=self.cfg.underlying, expiry=self.listing.expiry, ts=self.now(),
            spot=spot_from(und.bid, und.ask, und.last), quotes=self.quotes(), seq=self.seq,
            expiry_close=close, delayed=delayed, source=self.cfg.source,
        )
        if snap is None:
            return
        metrics.SNAPSHOT_BUILD_SECONDS.observe(time.perf_counter() - t0)
        self.seq += 1
        metrics.DELAYED_DATA.set(1 if delayed else 0)
        metrics.LAST_SNAPSHOT_TS.set(snap.ts.timestamp())
        emit(snap)
