"""Timer: delete rows older than ``RETENTION_DAYS`` from every table."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import azure.functions as func
from azure.data.tables import TableClient

from functions import storage
from functions.settings import settings

bp = func.Blueprint()
log = logging.getLogger("spyglass.housekeeping")


def purge(table: TableClient, cutoff: datetime) -> int:
    """Delete every row whose ``ts`` (``last_ts`` for chain states) is before ``cutoff``; returns the count."""
    old = table.query_entities("ts lt @cutoff or last_ts lt @cutoff", parameters={"cutoff": cutoff},
                               select=["PartitionKey", "RowKey"])
    by_partition: dict[str, list[dict]] = {}
    for e in old:
        by_partition.setdefault(e["PartitionKey"], []).append(e)
    deleted = 0
    for rows in by_partition.values():
        for i in range(0, len(rows), 100):
            table.submit_transaction([("delete", e) for e in rows[i:i + 100]])
            deleted += len(rows[i:i + 100])
    return deleted


@bp.timer_trigger(arg_name="timer", schedule="0 30 5 * * *", run_on_startup=False)
def retention(timer: func.TimerRequest) -> None:
    """Daily at 05:30 UTC, after the US close and before the next open."""
    cfg = settings()
    cutoff = datetime.now(timezone.utc) - timedelta(days=cfg.retention_days)
    for name in (cfg.anomalies_table, cfg.signals_table, cfg.chainstate_table, cfg.failures_table):
        log.info("retention: %d rows before %s deleted from %s", purge(storage.table(name), cutoff),
                 cutoff.isoformat(), name)
