"""The ``sim`` source: the project's simulator in real time, one snapshot per interval.

It starts at the clock's current New York time on today's session (or idles with a reason
outside one), so the snapshots look like a live feed: same contract, ``source: "sim"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from edge.collector.source import Sink, utc_now
from spyglass.clock import NEW_YORK, is_market_open
from spyglass.contract import Snapshot, SnapshotError

log = logging.getLogger("edge.collector.sim")


class SimSource:
    name = "sim"

    def __init__(self, *, underlying: str = "SPY", seed: int = 0, interval: float = 1.0, inject: bool = True,
                 now: Callable[[], datetime] = utc_now, idle_recheck: float = 60.0) -> None:
        self.underlying, self.seed, self.interval, self.inject = underlying, seed, interval, inject
        self.now = now
        self.idle_recheck = idle_recheck
        self.state = "starting"
        self.emitted = 0

    def readiness(self) -> tuple[bool, str]:
        return True, self.state

    async def run(self, emit: Sink, stop: asyncio.Event) -> None:
        from spyglass.sim import InjectionConfig, SimConfig, simulate_day

        while not stop.is_set():
            now = self.now()
            if not is_market_open(now):
                self.state = f"idle: market closed at {now.astimezone(NEW_YORK):%Y-%m-%d %H:%M} New York"
                log.info(self.state)
                await _sleep(stop, self.idle_recheck)
                continue
            ny = now.astimezone(NEW_YORK)
            cfg = SimConfig(underlying=self.underlying, trading_date=ny.date(), start=ny.time().replace(microsecond=0),
                            interval_s=self.interval, seed=self.seed, injection=InjectionConfig(enabled=self.inject))
            self.state = f"simulating {self.underlying} {ny.date()} from {ny:%H:%M:%S}"
            log.info(self.state)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            for i, record in enumerate(simulate_day(cfg)):
                delay = t0 + i * self.interval - loop.time()
                if delay > 0 and await _sleep(stop, delay):
                    return
                if stop.is_set():
                    return
                try:
                    snap = Snapshot.from_dict({**record, "source": "sim"})
                except SnapshotError as exc:  # the simulator's injected data errors are data, not this
                    log.warning("simulated snapshot rejected: %s", exc)
                    continue
                emit(snap)
                self.emitted += 1


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or return True early when ``stop`` is set."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
        return True
    except asyncio.TimeoutError:
        return False
