"""Per-chain scorer state outside the process, so any instance can score the next snapshot.

One entity per (underlying, expiry): PartitionKey ``SPY-20261124``, RowKey
``state``, holding ``last_seq``, ``last_ts`` and the gzip JSON of
``spyglass.detect.state.ChainState``. Writers use ETag optimistic concurrency:
an instance that lost the race reloads and decides again (see ingest.py).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass

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


def load(table: TableClient, underlying: str, expiry: str) -> StoredState:
    try:
        e = table.get_entity(chain_partition(underlying, expiry), STATE_ROW)
    except ResourceNotFoundError:
        return StoredState(None, None)
    return StoredState(ChainState.from_dict(orjson.loads(gzip.decompress(bytes(e["state"])))), e.metadata["etag"])


def save(table: TableClient, state: ChainState, etag: str | None) -> None:
    """Write ``state`` only if nobody else wrote since ``etag`` was read (create if ``etag`` is None)."""
    body = gzip.compress(orjson.dumps(state.to_dict()), mtime=0)
    entity = {
        "PartitionKey": chain_partition(state.underlying, state.expiry),
        "RowKey": STATE_ROW,
        "last_seq": -1 if state.last_seq is None else state.last_seq,
        "last_ts": state.last_ts,
        "state": body,
    }
    try:
        if etag is None:
            table.create_entity(entity)
        else:
            table.update_entity(entity, mode=UpdateMode.REPLACE, etag=etag, match_condition=MatchConditions.IfNotModified)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise StateConflict(str(exc)) from None
