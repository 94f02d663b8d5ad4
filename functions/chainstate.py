"""Per-chain scorer state outside the process, so any instance can score the next snapshot.

One entity per (underlying, expiry): PartitionKey ``SPY-20261124``, RowKey
``state``, holding ``last_seq``, ``last_ts``, the gzip JSON of
``spyglass.detect.state.ChainState`` and an **outbox**: the anomalies of the
snapshot that produced this state. Writers use ETag optimistic concurrency.
The state, its outbox and the snapshot's analytics history row (same
partition) are committed in one entity-group transaction; only then are the
anomalies written (idempotently) and the outbox marked flushed. So a loser of
a race writes nothing and a crash in between loses nothing: whoever loads a
state whose outbox is still pending flushes it first. Snapshots without
anomalies (most of them) cost one read and one transaction.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import orjson
from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from functions.storage import chain_partition
from spyglass.detect.state import ChainState

STATE_ROW = "state"


class StateConflict(Exception):
    """Another instance changed the state since it was read."""


@dataclass(frozen=True, slots=True)
class StoredState:
    state: ChainState | None
    etag: str | None  # None: no entity yet
    outbox: dict[str, Any] | None = None  # outputs committed but perhaps not yet written


def _gz(obj: Any) -> bytes:
    return gzip.compress(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), mtime=0)


def _ungz(data: Any) -> Any:
    return orjson.loads(gzip.decompress(bytes(data)))


def load(table: TableClient, underlying: str, expiry: str) -> StoredState:
    try:
        e = table.get_entity(chain_partition(underlying, expiry), STATE_ROW)
    except ResourceNotFoundError:
        return StoredState(None, None)
    outbox = _ungz(e["outbox"]) if e.get("pending") and e.get("outbox") else None
    return StoredState(ChainState.from_dict(_ungz(e["state"])), e.metadata["etag"], outbox)


def save(table: TableClient, state: ChainState, etag: str | None, outbox: dict[str, Any],
         history: dict[str, Any] | None = None) -> str:
    """Commit ``state`` (and its pending ``outbox``, if it has anomalies) only if nobody wrote since ``etag``.

    The snapshot's analytics ``history`` row lives in the same partition, so it is written in the same
    entity-group transaction: one round trip, all or nothing. Returns the state's new ETag.
    """
    pending = bool(outbox.get("anomalies"))
    entity = {
        "PartitionKey": chain_partition(state.underlying, state.expiry),
        "RowKey": STATE_ROW,
        "last_seq": -1 if state.last_seq is None else state.last_seq,
        "last_ts": state.last_ts,
        "state": _gz(state.to_dict()),
        "outbox": _gz(outbox) if pending else b"",
        "pending": pending,
    }
    op = ("create", entity) if etag is None else (
        "update", entity, {"mode": UpdateMode.REPLACE, "etag": etag, "match_condition": MatchConditions.IfNotModified})
    ops = [op] + ([("upsert", history)] if history is not None else [])
    try:
        result = table.submit_transaction(ops)
    except TableTransactionError as exc:
        if exc.status_code in (409, 412):
            raise StateConflict(str(exc)) from None
        raise
    return result[0]["etag"]


def mark_flushed(table: TableClient, state: ChainState, etag: str) -> None:
    """Clear the pending flag, unless a newer state was committed meanwhile (its outbox is its own)."""
    try:
        table.update_entity({"PartitionKey": chain_partition(state.underlying, state.expiry), "RowKey": STATE_ROW,
                             "pending": False}, mode=UpdateMode.MERGE, etag=etag,
                            match_condition=MatchConditions.IfNotModified)
    except ResourceModifiedError:
        pass
