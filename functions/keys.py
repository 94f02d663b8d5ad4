"""Table keys: partitions by underlying and trading day, row keys sortable by time.

Anomalies and signals: PartitionKey ``SPY-20261124`` (underlying, New York
trading date), RowKey ``<13-digit epoch ms>-<id>``: ascending RowKey is time
order and the id makes it unique, so re-scoring the same snapshot upserts the
same rows (idempotent). Chain analytics history uses an inverted timestamp so
that the first row at or after ``inv(at)`` is the newest snapshot at or before
``at``: Table storage only scans forwards.

Row keys hold 13 digits, which covers 1970 to 2286; a time outside that (the API accepts 1900-2099)
is clamped to the nearest end, so a bound before 1970 still sorts before every stored row.
"""

from __future__ import annotations

from datetime import datetime

from spyglass.clock import NEW_YORK

_MAX_MS = 10**13 - 1


def epoch_ms(ts: datetime) -> int:
    return int(round(ts.timestamp() * 1000))


def day_partition(underlying: str, ts: datetime) -> str:
    return f"{underlying}-{ts.astimezone(NEW_YORK).strftime('%Y%m%d')}"


def _row_ms(ts: datetime) -> int:
    return min(max(epoch_ms(ts), 0), _MAX_MS)


def time_row(ts: datetime, suffix: str = "") -> str:
    return f"{_row_ms(ts):013d}" + (f"-{suffix}" if suffix else "")


def inverted_row(ts: datetime) -> str:
    return f"{_MAX_MS - _row_ms(ts):013d}"
