"""Wiring: settings -> ops endpoints, ledger, audit, broker, signal feed, and the worker that decides.

Mode ``off`` serves ``/healthz`` and does nothing else (paused). The worker
takes signals one at a time from the feed's queue, so decisions never race.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from edge.bot.app import Bot
from edge.bot.audit import AuditLog
from edge.bot.broker import IBBroker
from edge.bot.feed import SignalFeed
from edge.bot.ledger import Ledger
from edge.bot.settings import BotSettings
from edge.bot.table_feed import TableSignalFeed
from edge.collector.ops import OpsServer

log = logging.getLogger("spyglass.bot")


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def run(settings: BotSettings, stop: asyncio.Event, ops_host: str = "0.0.0.0",
              clock: Callable[[], datetime] = _now) -> Bot | None:
    """Run until ``stop`` is set; returns the bot (for tests) or None when paused."""
    feed: SignalFeed | TableSignalFeed | None = None
    broker: IBBroker | None = None

    def readiness() -> tuple[bool, str]:
        if settings.mode == "off":
            return True, "paused (mode off)"
        if feed is None or not feed.connected:
            return False, "signal feed not connected"
        if broker is not None and not broker.connected():
            return False, "IB Gateway not connected"
        return True, f"{settings.mode}: receiving signals"

    ops = OpsServer(readiness, host=ops_host, port=settings.ops_port)
    ops.start()
    try:
        if settings.mode == "off":
            log.info("bot paused (SPYGLASS_BOT_MODE=off): no signals are read, no orders are sent")
            await stop.wait()
            return None
        ledger = Ledger(settings.ledger_path)
        audit = AuditLog(settings.audit_path, settings.mode)
        broker = await IBBroker.connect(settings, readonly=settings.mode == "shadow")
        bot = Bot(settings, broker, ledger, audit, clock=clock)
        broker.ib.orderStatusEvent += lambda t: t.order.orderRef and bot.order_status(
            t.order.orderRef, t.orderStatus.status, t.orderStatus.filled, t.orderStatus.avgFillPrice)
        queue: asyncio.Queue = asyncio.Queue()
        if settings.api:  # SignalR, with the API for catch-up
            feed = SignalFeed(settings.api, settings.function_key, settings.underlying, queue, ledger.mark, clock,
                              settings.limits.signal_ttl_seconds)
        else:  # in Azure behind the Static Web App: the signals table itself
            feed = TableSignalFeed(settings.signals_sas_url, settings.underlying, queue, ledger.mark, clock,
                                   settings.limits.signal_ttl_seconds, settings.poll_seconds)
        audit.write("started", limits=settings.limits.__dict__, quantity=settings.quantity)
        worker = asyncio.create_task(_work(bot, queue, stop))
        await feed.run(stop)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        audit.write("stopped")
        return bot
    finally:
        if broker is not None:
            broker.close()
        ops.stop()


async def _work(bot: Bot, queue: asyncio.Queue, stop: asyncio.Event) -> None:
    while not stop.is_set():
        raw, source = await queue.get()
        if source == "outcome":  # the market's grade of an earlier alert: feeds the gate, decides nothing
            bot.outcome(raw)
        else:
            await bot.handle(raw, source)
