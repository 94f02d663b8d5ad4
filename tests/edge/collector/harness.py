"""A fake IB Gateway and the ibkr source on one loop, with polling helpers (no fixed sleeps)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

from devstack.ibgateway import FakeGateway, SimMarket
from edge.collector.ibkr import IbkrConfig, IbkrSource
from edge.collector.source import shifted_clock

DAY = date(2026, 11, 24)  # a Tuesday session; the clocks are shifted there
T0 = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)  # 11:00 New York


class Harness:
    def __init__(self, *, day: date = DAY, clock: datetime = T0, sim_start: str = "11:00", market_kw=None,
                 gateway_kw=None, sinks=(), **config) -> None:
        self.sinks = list(sinks)
        self.market = SimMarket(day, sim_start, interval_s=0.05, **(market_kw or {}))
        self.gw = FakeGateway(self.market, cadence=0.05, clock_start=clock, **(gateway_kw or {}))
        self.clock = clock
        cfg = dict(scan_interval=0.1, backoff_initial=0.05, backoff_max=0.3, idle_recheck=0.2,
                   connect_timeout=3.0, lines=30)
        cfg.update(config)
        self.config = IbkrConfig(**cfg)
        self.snapshots = []
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Harness:
        await self.gw.start()
        self.config.port = self.gw.port
        self.source = IbkrSource(self.config, now=shifted_clock(self.clock))
        self.task = asyncio.create_task(self.source.run(self._emit, self.stop))
        return self

    def _emit(self, snapshot) -> None:
        self.snapshots.append(snapshot)
        for sink in self.sinks:
            sink(snapshot)

    async def __aexit__(self, *exc) -> None:
        self.stop.set()
        try:
            await asyncio.wait_for(self.task, 5)
        finally:
            await self.gw.stop()

    async def until(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not predicate():
            if self.task.done():
                self.task.result()
                raise AssertionError(f"source ended before {what}")
            if loop.time() > end:
                raise AssertionError(f"timed out waiting for {what}; source state: {self.source.state!r}, "
                                     f"errors {self.source.errors[-5:]}, lines {self.gw.lines()}")
            await asyncio.sleep(0.02)

    async def more_snapshots(self, n: int = 3, timeout: float = 10.0) -> None:
        target = len(self.snapshots) + n
        await self.until(lambda: len(self.snapshots) >= target, timeout, f"{n} more snapshots")

    def sent(self, msg_id: int) -> int:
        return sum(1 for f in self.gw.received if f[0] == str(msg_id))

    @property
    def options(self) -> int:
        """Option lines the window should hold: the allowance minus the underlying and one spare."""
        return self.config.lines - 2

    def full_window(self) -> bool:
        return (self.gw.lines() == self.options + 1 and len(self.snapshots) > 0
                and len(self.snapshots[-1].chain) == self.options)


def run(coro):
    return asyncio.run(coro)
