"""Table and blob access shared by the blueprints, and the entity shapes stored in them."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions.keys import day_partition, time_row
from functions.settings import settings
from spyglass.contract import Anomaly, iso_ms

_JSON_FIELDS = ("evidence", "data_quality")


@lru_cache(maxsize=1)
def table_service() -> TableServiceClient:
    conn = settings().storage_connection
    if not conn:
        raise RuntimeError(f"app setting {settings().storage_setting} is not set")
    return TableServiceClient.from_connection_string(conn)


@lru_cache(maxsize=1)
def blob_service() -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(settings().storage_connection or "")


@lru_cache(maxsize=8)
def table(name: str) -> TableClient:
    """A client for ``name``, creating the table on first use (idempotent)."""
    client = table_service().get_table_client(name)
    try:
        client.create_table()
    except ResourceExistsError:
        pass
    return client


@lru_cache(maxsize=4)
def queue(name: str) -> QueueClient:
    """A producer for ``name`` that base64-encodes, as the Functions queue trigger expects."""
    client = QueueClient.from_connection_string(settings().storage_connection or "", name,
                                                message_encode_policy=TextBase64EncodePolicy())
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client


def upsert_all(client: TableClient, entities: list[dict[str, Any]]) -> None:
    """Upsert rows in transactions of at most 100 per partition (Table storage's batch limit)."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for e in entities:
        by_partition.setdefault(e["PartitionKey"], []).append(e)
    for rows in by_partition.values():
        for i in range(0, len(rows), 100):
            client.submit_transaction([("upsert", e) for e in rows[i:i + 100]])


def fetch_blob(container: str, name: str) -> bytes:
    return blob_service().get_blob_client(container, name).download_blob().readall()


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
    }


# chain analytics history per (underlying, expiry), newest first thanks to the inverted row key
def chain_partition(underlying: str, expiry: str) -> str:
    return f"{underlying}-{expiry.replace('-', '')}"


def analytics_entity(analytics: dict[str, Any]) -> dict[str, Any]:
    """The history row for one snapshot's chain analytics, gzip-compressed JSON.

    A 242-contract analytics document is ~25 KB of JSON and ~8 KB compressed,
    inside Table storage's 64 KiB property limit.
    """
    import gzip

    from functions.keys import inverted_row
    from spyglass.contract import parse_iso

    ts = parse_iso(analytics["ts"])
    return {"PartitionKey": chain_partition(analytics["underlying"], analytics["expiry"]), "RowKey": inverted_row(ts),
            "ts": ts, "expiry": analytics["expiry"], "underlying": analytics["underlying"],
            "analytics": gzip.compress(orjson.dumps(analytics, option=orjson.OPT_SERIALIZE_NUMPY), mtime=0)}


def entity_analytics(e: dict[str, Any]) -> dict[str, Any]:
    import gzip

    return orjson.loads(gzip.decompress(bytes(e["analytics"])))
