"""Per-chain scorer state outside the process, so any instance can score the next snapshot.

One entity per (underlying, expiry): PartitionKey ``SPY-20261124``, RowKey
``state``, holding ``last_seq``, ``last_ts``, the gzip JSON of
``spyglass.detect.state.ChainState`` and an **outbox**: the outputs of the
snapshot that produced this state. Writers use ETag optimistic concurrency.
The outbox is committed in the same conditional write as the state, and only
then are the outputs written (idempotently) and the outbox marked flushed, so
a loser of a race writes nothing and a crash between the two loses nothing:
whoever loads a state whose outbox is still pending flushes it first.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

import orjson
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

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


def save(table: TableClient, state: ChainState, etag: str | None, outbox: dict[str, Any]) -> str:
    """Commit ``state`` and its pending ``outbox`` only if nobody wrote since ``etag``; returns the new ETag."""
    entity = {
        "PartitionKey": chain_partition(state.underlying, state.expiry),
        "RowKey": STATE_ROW,
        "last_seq": -1 if state.last_seq is None else state.last_seq,
        "last_ts": state.last_ts,
        "state": _gz(state.to_dict()),
        "outbox": _gz(outbox),
        "pending": True,
    }
    try:
        if etag is None:
            meta = table.create_entity(entity)
        else:
            meta = table.update_entity(entity, mode=UpdateMode.REPLACE, etag=etag,
                                       match_condition=MatchConditions.IfNotModified)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise StateConflict(str(exc)) from None
    return meta["etag"]


def mark_flushed(table: TableClient, state: ChainState, etag: str) -> None:
    """Clear the pending flag, unless a newer state was committed meanwhile (its outbox is its own)."""
    try:
        table.update_entity({"PartitionKey": chain_partition(state.underlying, state.expiry), "RowKey": STATE_ROW,
                             "pending": False}, mode=UpdateMode.MERGE, etag=etag,
                            match_condition=MatchConditions.IfNotModified)
    except ResourceModifiedError:
        pass
