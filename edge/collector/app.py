"""``python -m edge.collector`` (``spyglass collect``): one source -> every sink (recorder, publisher), plus the ops endpoints.

The source produces snapshots on the asyncio loop; each goes to every sink in turn. The
publisher's ``submit`` commits to the durable spool before it returns, so a snapshot handed
over is never lost; a sink that fails (spool full, disk full) is logged loudly and the others
still get the snapshot. SIGTERM/SIGINT stop the source, then the publisher (in-flight sends
finish), then the recorder and the ops server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edge.collector import metrics
from edge.collector.hours import Session
from edge.collector.ibkr import IbkrConfig, IbkrSource
from edge.collector.source import Sink, Source, shifted_clock
from spyglass.clock import is_market_open
from spyglass.contract import Snapshot

log = logging.getLogger("edge.collector")


@dataclass
class CollectOptions:
    source: str = "ibkr"  # ibkr | sim | replay
    ibkr: IbkrConfig = field(default_factory=IbkrConfig)
    underlying: str = "SPY"
    scan_interval: float = 1.0
    seed: int = 0  # sim
    inject: bool = True  # sim: labelled anomalies
    replay: list[str] = field(default_factory=list)
    speed: float = 1.0  # replay
    progress: bool = True
    record: str | None = None
    queue: str | None = None  # queue SAS URL, storage connection string, or "env"
    spool: str | None = None
    ops_port: int | None = 9100  # None: no ops server
    ops_host: str = "0.0.0.0"
    clock_start: datetime | None = None  # demo/tests: run the clock from this instant


def build_source(opts: CollectOptions) -> Source:
    now = shifted_clock(opts.clock_start)
    if opts.source == "ibkr":
        opts.ibkr.underlying = opts.underlying
        opts.ibkr.scan_interval = opts.scan_interval
        return IbkrSource(opts.ibkr, now=now)
    if opts.source == "sim":
        from edge.collector.sim import SimSource

        return SimSource(underlying=opts.underlying, seed=opts.seed, interval=opts.scan_interval,
                         inject=opts.inject, now=now)
    if opts.source == "replay":
        from edge.collector.replay import ReplaySource

        if not opts.replay:
            raise ValueError("--source replay needs at least one recording (file or directory)")
        return ReplaySource(opts.replay, speed=opts.speed, progress=opts.progress)
    raise ValueError(f"unknown source {opts.source!r}: ibkr, sim or replay")


def source_session(source: Source) -> Session | None:
    """The session the source streams (IB's trading hours for today's expiry), once it knows one."""
    listing = getattr(source, "listing", None)
    return listing.session if listing is not None else None


async def watch_market(now: Callable[[], datetime], stop: asyncio.Event, every: float = 30.0,
                       session: Callable[[], Session | None] = lambda: None) -> None:
    """Keep ``spyglass_collector_market_open`` from the source's session, else the exchange calendar.

    The alerts ("no data while the market is open") need an answer even when the gateway is down all
    morning (the calendar's), and a clock window would page on every holiday and early close. Once
    the source has read its session (IB's hours: the calendar's in production, the fake gateway's
    simulated one in the demo), the gauge follows the session the data comes from.
    """
    while not stop.is_set():
        current = session()
        at = now()
        metrics.MARKET_OPEN.set(1 if (current.contains(at) if current is not None else is_market_open(at)) else 0)
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass


def publisher_settings(queue: str, spool: str | None) -> Any:
    """``PublisherSettings`` for ``--queue``: a queue SAS URL, a connection string, or ``env``."""
    from edge.collector.publish_settings import PublisherSettings

    base = PublisherSettings.from_env()
    if queue == "env":
        if not (base.queue_sas_url or base.connection_string or base.queue_account_url):
            conn = os.environ.get("AzureWebJobsStorage")
            if conn:
                base = PublisherSettings(**{**_fields(base), "connection_string": conn})
    elif queue.startswith(("https://", "http://")):
        base = PublisherSettings(**{**_fields(base), "queue_sas_url": queue})
    else:
        base = PublisherSettings(**{**_fields(base), "connection_string": queue})
    if spool:
        base = PublisherSettings(**{**_fields(base), "spool_path": spool})
    return base


def _fields(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


def new_session(now: datetime | None = None) -> str:
    """This run's producer session: its UTC start and 24 random bits, e.g. ``20261124T150000.250Z-3fa2c1``.

    Each snapshot carries it beside ``seq``, so the consumer tells a restart (seq 0 of a new
    session) from a redelivery or a backlog of the old one.
    """
    start = now or datetime.now(timezone.utc)
    return f"{start:%Y%m%dT%H%M%S}.{start.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


class FanOut:
    """The one sink the source sees: stamps the run's session, hands each snapshot to every sink.

    A sink's failure is isolated from the others. Without a session (a replay: the recording's
    snapshots keep what they had) nothing is stamped.
    """

    def __init__(self, sinks: list[Sink], session: str | None = None) -> None:
        self.sinks = sinks
        self.session = session
        self.count = 0
        self.failures = 0

    def __call__(self, snapshot: Snapshot) -> None:
        self.count += 1
        if self.session is not None and snapshot.session is None:
            snapshot = replace(snapshot, session=self.session)
        for sink in self.sinks:
            try:
                sink(snapshot)
            except Exception as exc:  # noqa: BLE001 - one sink's trouble must not starve the others
                self.failures += 1
                log.error("sink %s refused snapshot %s (seq %s): %s", _name(sink), snapshot.key, snapshot.seq, exc)


def _name(sink: Sink) -> str:
    return getattr(sink, "__qualname__", None) or type(sink).__name__


async def collect(opts: CollectOptions, stop: asyncio.Event | None = None,
                  extra_sinks: list[Sink] | None = None) -> FanOut:
    """Run until ``stop`` (or SIGTERM/SIGINT, or a replay ends); returns the fan-out with its counts."""
    stop = stop or asyncio.Event()
    source = build_source(opts)
    sinks: list[Sink] = list(extra_sinks or [])
    recorder = publisher = ops = None
    checks = [source.readiness]
    if opts.record:
        from edge.collector.recorder import Recorder

        recorder = Recorder(opts.record)
        sinks.append(recorder)
    if opts.queue:
        from edge.collector.publisher import Publisher

        settings = publisher_settings(opts.queue, opts.spool)
        Path(settings.spool_path).parent.mkdir(parents=True, exist_ok=True)
        publisher = Publisher.from_settings(settings)
        publisher.start()
        sinks.append(publisher.submit)
        checks.append(publisher.readiness)
    if opts.ops_port is not None:
        from edge.collector.ops import OpsServer, all_ready

        ops = OpsServer(all_ready(*checks), host=opts.ops_host, port=opts.ops_port).start()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    fan = FanOut(sinks, None if opts.source == "replay" else new_session())
    if fan.session:
        log.info("producer session %s", fan.session)
    calendar = asyncio.create_task(watch_market(shifted_clock(opts.clock_start), stop,
                                                session=lambda: source_session(source)))
    log.info("collecting from %s into %s", source.name,
             ", ".join(x for x, on in (("recorder", recorder), ("queue", publisher), ("extra sinks", extra_sinks)) if on)
             or "nothing (no --record, no --queue)")
    try:
        await source.run(fan, stop)
    finally:
        calendar.cancel()
        for sig in installed:
            loop.remove_signal_handler(sig)
        if publisher is not None:
            await asyncio.to_thread(publisher.stop, 10.0)
        if recorder is not None:
            recorder.close()
        if ops is not None:
            ops.stop()
    return fan
