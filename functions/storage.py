"""Table, queue and blob clients shared by the blueprints (the rows they hold: ``spyglass.wire.tables``)."""

from __future__ import annotations

import math
import os
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import islice
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions.settings import settings
from spyglass.contract import iso_ms
from spyglass.wire.queue import MessageError
from spyglass.wire.tables import SERIES_FIELDS, entity_analytics, epoch_ms, inverted_row

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


def merge_all(client: TableClient, entities: list[dict[str, Any]]) -> None:
    """Merge columns into rows (created if absent); columns for one row are sent together, since a transaction
    may touch an entity once."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for e in entities:
        rows.setdefault((e["PartitionKey"], e["RowKey"]), {}).update(e)
    upsert_all(client, list(rows.values()))  # a transaction's upsert merges (UpdateMode.MERGE)


def fetch_blob(container: str, name: str, limit: int) -> bytes:
    """The blob, or its first ``limit + 1`` bytes when it is larger (the caller refuses it): never more."""
    try:
        return blob_service().get_blob_client(container, name).download_blob(offset=0, length=limit + 1).readall()
    except ResourceNotFoundError:
        raise MessageError(f"claim-check blob {container}/{name} does not exist") from None
    except HttpResponseError as exc:
        if exc.status_code == 416:  # an empty blob: no byte 0 to start from
            return b""
        raise


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

