"""Table and blob access shared by the blueprints, and the entity shapes stored in them."""

from __future__ import annotations

import gzip
import math
import os
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any

import orjson
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions.keys import day_partition, epoch_ms, inverted_row, time_row
from functions.settings import settings
from spyglass.contract import ANOMALY_TYPES, Anomaly, iso_ms, parse_iso

_JSON_FIELDS = ("evidence", "data_quality")
# An incident's row also holds its facets (JSON) and, per facet type, a boolean column that a type
# filter can match (Table storage has no "contains"); a row without facets has none of these.
FACET_COLUMN = {t: f"facet_{t}" for t in ANOMALY_TYPES}
FAST_GZIP = 1  # for what is written every snapshot (state, history): 3.5x faster than level 9, 6% more bytes
# Beside the compressed document, each history row keeps these as columns, so the day's series can be
# read with a projection instead of decompressing thousands of documents.
_SUMMARY_FIELDS = ("spot", "forward", "atm_iv", "expected_move", "rr25_vol_points")
SERIES_FIELDS = (*_SUMMARY_FIELDS, "gex_total")
MAX_SERIES_ROWS = 30_000  # a full session at one snapshot a second is 23,400


@dataclass(frozen=True, slots=True)
class StorageAccess:
    """How to reach storage, as the Functions runtime reads it from app settings.

    Either a connection string in ``AzureWebJobsStorage`` (local, Azurite), or an identity-based
    connection: ``AzureWebJobsStorage__accountName`` (or ``__tableServiceUri`` / ``__queueServiceUri`` /
    ``__blobServiceUri``) with the app's managed identity (``__clientId`` for a user-assigned one).
    """

    connection_string: str | None
    endpoints: dict[str, str]
    client_id: str | None = None

    def credential(self):  # noqa: ANN201 - azure.identity credential
        from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

        return ManagedIdentityCredential(client_id=self.client_id) if self.client_id else DefaultAzureCredential()


@lru_cache(maxsize=1)
def access() -> StorageAccess:
    name = settings().storage_setting
    conn = os.environ.get(name)
    if conn:
        return StorageAccess(conn, {})
    account = os.environ.get(f"{name}__accountName")
    endpoints = {}
    for service in ("table", "queue", "blob"):
        uri = os.environ.get(f"{name}__{service}ServiceUri")
        if uri or account:
            endpoints[service] = uri or f"https://{account}.{service}.core.windows.net"
    if not endpoints:
        raise RuntimeError(f"app setting {name} (or {name}__accountName) is not set")
    return StorageAccess(None, endpoints, os.environ.get(f"{name}__clientId"))


@lru_cache(maxsize=1)
def client_options() -> dict[str, Any]:
    """Options for every storage client.

    With no proxy configured, ``requests`` would still scan the whole environment for one on every
    call, about a sixth of a table write's CPU; the environment is read once here instead.
    """
    return {} if urllib.request.getproxies() else {"use_env_settings": False}


@lru_cache(maxsize=1)
def table_service() -> TableServiceClient:
    a = access()
    if a.connection_string:
        return TableServiceClient.from_connection_string(a.connection_string, **client_options())
    return TableServiceClient(endpoint=a.endpoints["table"], credential=a.credential(), **client_options())


@lru_cache(maxsize=1)
def blob_service() -> BlobServiceClient:
    a = access()
    if a.connection_string:
        return BlobServiceClient.from_connection_string(a.connection_string, **client_options())
    return BlobServiceClient(account_url=a.endpoints["blob"], credential=a.credential(), **client_options())


@lru_cache(maxsize=8)
def table(name: str) -> TableClient:
    """A client for ``name``; with a connection string (Azurite) the table is created on first use.

    With an identity the infrastructure has created every table and queue, and the app's roles are
    scoped to those resources, so it must not try to create them (a 403, not a 409).
    """
    client = table_service().get_table_client(name)
    if access().connection_string:
        try:
            client.create_table()
        except ResourceExistsError:
            pass
    return client


@lru_cache(maxsize=4)
def queue(name: str) -> QueueClient:
    """A producer for ``name`` that base64-encodes, as the Functions queue trigger expects."""
    a = access()
    if a.connection_string:
        client = QueueClient.from_connection_string(a.connection_string, name, **client_options(),
                                                    message_encode_policy=TextBase64EncodePolicy())
    else:
        client = QueueClient(a.endpoints["queue"], name, credential=a.credential(), **client_options(),
                             message_encode_policy=TextBase64EncodePolicy())
    if a.connection_string:  # as for tables: with an identity, the infrastructure made the queues
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


def fetch_blob(container: str, name: str, limit: int) -> bytes:
    """The blob, or its first ``limit + 1`` bytes when it is larger (the caller refuses it): never more."""
    from functions.codec import MessageError

    try:
        return blob_service().get_blob_client(container, name).download_blob(offset=0, length=limit + 1).readall()
    except ResourceNotFoundError:
        raise MessageError(f"claim-check blob {container}/{name} does not exist") from None
    except HttpResponseError as exc:
        if exc.status_code == 416:  # an empty blob: no byte 0 to start from
            return b""
        raise


PROPERTY_LIMIT = 64 * 1024  # Table storage: one binary property holds at most 64 KiB


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
    }


# chain analytics history per (underlying, expiry), newest first thanks to the inverted row key
def chain_partition(underlying: str, expiry: str) -> str:
    return f"{underlying}-{expiry.replace('-', '')}"


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


def analytics_series(table: TableClient, partition: str, since: datetime, until: datetime,
                     every_s: int | None = None, points: int = 400) -> tuple[int, list[dict[str, Any]]]:
    """``(every, series)``: the newest snapshot in each ``every`` seconds, oldest first.

    Without ``every_s`` the interval is chosen so that the data found (not the window asked for)
    gives about ``points`` points: a page opened a minute into the session still gets a curve.
    """
    rows = table.query_entities("PartitionKey eq @pk and RowKey ge @lo and RowKey le @hi",
                                parameters={"pk": partition, "lo": inverted_row(until), "hi": inverted_row(since)},
                                select=["ts", *SERIES_FIELDS], results_per_page=1000)
    found = list(islice(rows, MAX_SERIES_ROWS))  # newest first
    if every_s is None:
        span = (epoch_ms(found[0]["ts"]) - epoch_ms(found[-1]["ts"])) / 1000 if found else 0.0
        every_s = max(1, math.ceil(span / points))
    series: dict[int, dict[str, Any]] = {}
    for e in found:  # the first row seen in a bucket is its newest
        bucket = epoch_ms(e["ts"]) // (every_s * 1000)
        if bucket not in series:
            series[bucket] = {"ts": iso_ms(e["ts"]), **{name: e.get(name) for name in SERIES_FIELDS}}
    return every_s, [series[b] for b in sorted(series)]


def newest_analytics(table: TableClient, partition: str, at: datetime | None = None) -> dict[str, Any] | None:
    """The newest snapshot's analytics in ``partition`` at or before ``at`` (default: the newest of all).

    History row keys are inverted 13-digit timestamps, so the first row from ``inv(at)`` is the
    answer, and the upper bound ``':'`` (just after '9') keeps the ``state`` row out.
    """
    rows = table.query_entities("PartitionKey eq @pk and RowKey ge @rk and RowKey lt @end",
                                parameters={"pk": partition, "rk": inverted_row(at) if at else "0", "end": ":"},
                                results_per_page=1)
    for e in rows:
        return entity_analytics(e)
    return None


def entity_analytics(e: dict[str, Any]) -> dict[str, Any]:
    return orjson.loads(gzip.decompress(get_bytes(e, "analytics")))
