"""Signals read straight from the ``signals`` table with a read-only SAS, for the bot in Azure.

Behind the Static Web App the API only answers signed-in people (role ``trader``), so a daemon on
the edge cannot negotiate SignalR or call ``GET /api/signals`` there. The table the API reads is
the source of truth: this feed catches up from it like ``catchup.fetch_since`` and then polls it
(``SPYGLASS_BOT_POLL_SECONDS``, default 1 s: signals live for 30 s). The SAS allows reading that
one table and nothing else. The ledger deduplicates, so the overlap of each poll is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from azure.core.exceptions import AzureError
from azure.data.tables import TableClient

from edge.bot import catchup
from spyglass.contract import parse_iso
from spyglass.wire.tables import entity_anomaly, rows_since

log = logging.getLogger("spyglass.bot.table_feed")
PAGE = 500


def read_since(table: TableClient, underlying: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Signals stored after ``since``, oldest first (the API's query: ``rows_since``)."""
    flt, params = rows_since(underlying, since, until)
    rows = table.query_entities(flt, parameters=params, results_per_page=PAGE)
    return [entity_anomaly(e) for e in rows]


class TableSignalFeed:
    """Puts ``(signal_dict, "table")`` on ``queue``; the same contract as ``feed.SignalFeed``."""

    def __init__(self, sas_url: str, underlying: str, queue: asyncio.Queue, mark: Callable[[], datetime | None],
                 clock: Callable[[], datetime], ttl_seconds: float, poll_seconds: float = 1.0) -> None:
        self.table = TableClient.from_table_url(sas_url)
        self.underlying, self.queue, self.mark, self.clock = underlying, queue, mark, clock
        self.ttl, self.poll = ttl_seconds, poll_seconds
        self.connected = False
        self.polls = 0
        self.delivered = 0
        self._seen: dict[str, datetime] = {}  # id -> ts of what this feed already delivered, within the overlap

    async def run(self, stop: asyncio.Event) -> None:
        since = catchup.since_for(self.mark(), self.clock(), self.ttl)
        while not stop.is_set():
            now = self.clock()
            try:
                items = await asyncio.to_thread(read_since, self.table, self.underlying, since, now)
            except AzureError as exc:
                if self.connected:
                    log.warning("signals table unreachable: %s (polling on)", str(exc).splitlines()[0])
                self.connected = False
            else:
                self.connected = True
                self.polls += 1
                for item in items:
                    if item["id"] not in self._seen:
                        self._seen[item["id"]] = parse_iso(item["ts"])
                        await self.queue.put((item, "table"))
                        self.delivered += 1
                if items:  # the next poll overlaps, for rows a slower host stores late
                    since = max(since, parse_iso(items[-1]["ts"]) - catchup.OVERLAP)
                    self._seen = {i: ts for i, ts in self._seen.items() if ts > since}
            try:
                await asyncio.wait_for(stop.wait(), self.poll)
            except TimeoutError:
                pass
        self.table.close()
