"""The rows of the app's tables: keys, the entity <-> anomaly/analytics mapping, shared query templates.

The Functions app writes these rows; its API and the edge bot (with a read-only SAS) read them, so
the schema lives here, where both ends see it.

Anomalies and signals: PartitionKey ``SPY-20261124`` (underlying, New York
trading date), RowKey ``<13-digit epoch ms>-<id>``: ascending RowKey is time
order and the id makes it unique, so re-scoring the same snapshot upserts the
same rows (idempotent). Chain analytics history uses an inverted timestamp so
that the first row at or after ``inv(at)`` is the newest snapshot at or before
``at``: Table storage only scans forwards.

Row keys hold 13 digits, which covers 1970 to 2286; a time outside that (the API accepts 1900-2099)
is clamped to the nearest end, so a bound before 1970 still sorts before every stored row.

Every query is a fixed OData template with named parameters: user input is never pasted into one.
"""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Any

import orjson

from spyglass.clock import NEW_YORK
from spyglass.contract import ANOMALY_TYPES, Anomaly, iso_ms, parse_iso
from spyglass.outcome.markout import Markout

_MAX_MS = 10**13 - 1
_JSON_FIELDS = ("evidence", "data_quality")
# An incident's row also holds its facets (JSON) and, per facet type, a boolean column that a type
# filter can match (Table storage has no "contains"); a row without facets has none of these.
FACET_COLUMN = {t: f"facet_{t}" for t in ANOMALY_TYPES}
FAST_GZIP = 1  # for what is written every snapshot (state, history): 3.5x faster than level 9, 6% more bytes
# Beside the compressed document, each history row keeps these as columns, so the day's series can be
# read with a projection instead of decompressing thousands of documents.
_SUMMARY_FIELDS = ("spot", "forward", "atm_iv", "expected_move", "rr25_vol_points")
SERIES_FIELDS = (*_SUMMARY_FIELDS, "gex_total")
PROPERTY_LIMIT = 64 * 1024  # Table storage: one binary property holds at most 64 KiB
# signals (or anomalies) of one underlying stored after a time: the API's catch-up and the bot's poll
SIGNALS_SINCE = "PartitionKey ge @pk_lo and PartitionKey le @pk_hi and RowKey gt @rk"


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


def chain_partition(underlying: str, expiry: str) -> str:
    """Chain analytics history and state per (underlying, expiry), newest first by the inverted row key."""
    return f"{underlying}-{expiry.replace('-', '')}"


def rows_since(underlying: str, since: datetime, until: datetime) -> tuple[str, dict[str, str]]:
    """``(filter, parameters)`` for the rows of ``underlying`` stored after ``since``, up to ``until``'s day."""
    return SIGNALS_SINCE, {"pk_lo": day_partition(underlying, since), "pk_hi": day_partition(underlying, until),
                           "rk": time_row(since)}


def put_bytes(entity: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
    """Store ``data`` in ``name``, ``name_1``, ``name_2``... of 64 KiB each (an entity holds up to 1 MiB)."""
    entity[name] = data[:PROPERTY_LIMIT]
    for i, start in enumerate(range(PROPERTY_LIMIT, len(data), PROPERTY_LIMIT), 1):
        entity[f"{name}_{i}"] = data[start:start + PROPERTY_LIMIT]
    return entity


def get_bytes(entity: dict[str, Any], name: str) -> bytes:
    """What ``put_bytes`` stored."""
    parts, i = [bytes(entity[name])], 1
    while f"{name}_{i}" in entity:
        parts.append(bytes(entity[f"{name}_{i}"]))
        i += 1
    return b"".join(parts)


def gz(obj: Any) -> bytes:
    return gzip.compress(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), compresslevel=FAST_GZIP, mtime=0)


def anomaly_entity(a: Anomaly) -> dict[str, Any]:
    """The table row for an anomaly: time-ordered, unique, and the same row when re-scored."""
    row: dict[str, Any] = {
        "PartitionKey": day_partition(a.underlying, a.ts),
        "RowKey": time_row(a.ts, a.id),
        "id": a.id,
        "underlying": a.underlying,
        "expiry": a.expiry.isoformat(),
        "ts": a.ts,
        "type": a.type,
        "severity": a.severity,
        "score": float(a.score),
        "state": a.evidence.get("state", "new"),
        "evidence": orjson.dumps(a.evidence).decode(),
        "data_quality": orjson.dumps(a.data_quality).decode(),
    }
    if a.right is not None:
        row["right"] = a.right
    if a.strike is not None:
        row["strike"] = float(a.strike)
    if a.edge is not None:
        row["edge"] = float(a.edge)
    if a.facets:
        row["facets"] = orjson.dumps(list(a.facets)).decode()
        row.update({FACET_COLUMN[f["type"]]: True for f in a.facets})
    return row


def entity_anomaly(e: dict[str, Any]) -> dict[str, Any]:
    """A stored row back to the public anomaly/1 JSON."""
    ts = e["ts"]
    return {
        "schema": "anomaly/1",
        "id": e["id"],
        "underlying": e["underlying"],
        "expiry": e["expiry"],
        "ts": iso_ms(ts) if isinstance(ts, datetime) else ts,
        "right": e.get("right"),
        "strike": e.get("strike"),
        "type": e["type"],
        "score": e.get("score"),
        "severity": e["severity"],
        "edge": e.get("edge"),
        **{f: orjson.loads(e[f]) if e.get(f) else {} for f in _JSON_FIELDS},
        **({"facets": orjson.loads(e["facets"])} if e.get("facets") else {}),
        **({"outcome": outcome} if (outcome := _outcome(e)) else {}),
    }


# An alert's outcome: one JSON column per horizon, merged into its row as each horizon passes (a merge of the
# same column is idempotent, and no horizon's write has to read the others')
OUTCOME_COLUMN = {h: f"outcome_{h}" for h in ("5s", "30s", "2m", "5m", "settle")}


def outcome_entity(m: Markout) -> dict[str, Any]:
    """The columns one markout merges into its alert's row."""
    ts = parse_iso(m.alert_ts)
    return {"PartitionKey": day_partition(m.underlying, ts), "RowKey": time_row(ts, m.anomaly_id),
            OUTCOME_COLUMN[m.horizon]: orjson.dumps(m.public()).decode()}


OUTCOME_SELECT = ["id", "underlying", "ts", "type", "severity", *OUTCOME_COLUMN.values()]


def entity_markouts(e: dict[str, Any]) -> list[Markout]:
    """The markouts stored on an alert's row (selected with ``OUTCOME_SELECT``), to grade them."""
    ts = e["ts"]
    at = iso_ms(ts) if isinstance(ts, datetime) else ts
    return [Markout(e["id"], e["underlying"], at, e["type"], e["severity"], h, **v) for h, v in _outcome(e).items()]


def _outcome(e: dict[str, Any]) -> dict[str, Any]:
    return {h: orjson.loads(e[col]) for h, col in OUTCOME_COLUMN.items() if e.get(col)}


def analytics_entity(analytics: dict[str, Any], session: str | None = None, late: str | None = None,
                     enqueued: datetime | None = None) -> dict[str, Any]:
    """The history row for one snapshot's chain analytics, gzip-compressed JSON.

    A 242-contract analytics document is ~25 KB of JSON and ~8 KB compressed; 5,000
    contracts take several of Table storage's 64 KiB properties (``put_bytes``). ``late``
    says why a snapshot was stored after its chain had moved on (it was not scored in order);
    ``enqueued`` (the queue's insertion time) against the row's own write time is its ingest delay.
    """
    ts = parse_iso(analytics["ts"])
    summary = {name: float(analytics[name]) for name in _SUMMARY_FIELDS if analytics.get(name) is not None}
    if (analytics.get("gex") or {}).get("total") is not None:
        summary["gex_total"] = float(analytics["gex"]["total"])
    row = {"PartitionKey": chain_partition(analytics["underlying"], analytics["expiry"]), "RowKey": inverted_row(ts),
           "ts": ts, "expiry": analytics["expiry"], "underlying": analytics["underlying"], **summary}
    if analytics.get("seq") is not None:
        row["seq"] = str(analytics["seq"])  # text: the contract allows integers beyond Int64
    if session:
        row["session"] = session
    if late:
        row["late"] = late
    if enqueued is not None:
        row["enqueued"] = enqueued
    return put_bytes(row, "analytics", gz(analytics))


def entity_analytics(e: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(gzip.decompress(get_bytes(e, "analytics")))
