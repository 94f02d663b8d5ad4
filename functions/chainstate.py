"""Per-chain scorer state outside the process, so any instance can score the next snapshot.

One entity per (underlying, expiry): PartitionKey ``SPY-20261124``, RowKey
``state``, holding ``last_seq``, ``last_ts``, the gzip JSON of
``spyglass.detect.state.ChainState`` and an **outbox**: the anomalies of the
snapshot that produced this state. Writers use ETag optimistic concurrency:
the state and its outbox are committed in one conditional write; only then
are the anomalies written (idempotently) and the outbox marked flushed. So a
loser of a race publishes nothing and a crash in between loses nothing:
whoever loads a state whose outbox is still pending flushes it first.

Each process remembers the last state it read or wrote with its ETag
(``StateCache``), so the next snapshot of a chain usually costs no read: if
another instance wrote meanwhile, the conditional write fails with 412 and
the caller reloads. A stale cache can therefore cost a retry, never a wrong
state. Snapshots without anomalies (most of them) cost one conditional write.
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, UpdateMode

from functions.storage import FAST_GZIP, chain_partition
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
    return gzip.compress(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), compresslevel=FAST_GZIP, mtime=0)


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
    """Commit ``state`` (and its pending ``outbox``, if it has anomalies) only if nobody wrote since ``etag``.

    Returns the state's new ETag; raises ``StateConflict`` if another writer got there first.
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
    try:
        if etag is None:
            written = table.create_entity(entity)
        else:
            written = table.update_entity(entity, mode=UpdateMode.REPLACE, etag=etag,
                                          match_condition=MatchConditions.IfNotModified)
    except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError) as exc:  # 409, 412, 404 (purged)
        raise StateConflict(str(exc).splitlines()[0]) from None
    return written["etag"]


def mark_flushed(table: TableClient, state: ChainState, etag: str) -> str | None:
    """Clear the pending flag, unless a newer state was committed meanwhile (its outbox is its own).

    Returns the new ETag, or None if the state had moved on.
    """
    try:
        written = table.update_entity({"PartitionKey": chain_partition(state.underlying, state.expiry),
                                       "RowKey": STATE_ROW, "pending": False}, mode=UpdateMode.MERGE, etag=etag,
                                      match_condition=MatchConditions.IfNotModified)
    except (ResourceModifiedError, ResourceNotFoundError):
        return None
    return written["etag"]


class StateCache:
    """The last known state of each chain in this process, with its ETag (thread-safe).

    ``turn(chain)`` serialises one chain's snapshots within the process: a batch often holds
    consecutive snapshots of a chain, and racing them would only buy ETag conflicts and re-scoring.
    Across processes the ETag still decides.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, StoredState] = {}
        self._chain_locks: dict[str, threading.Lock] = {}

    def turn(self, underlying: str, expiry: str, patience: float) -> ChainTurn:
        key = chain_partition(underlying, expiry)
        with self._lock:
            return ChainTurn(self._chain_locks.setdefault(key, threading.Lock()), patience)

    def current(self, table: TableClient, underlying: str, expiry: str, fresh: bool = False) -> StoredState:
        """The remembered state, or (``fresh`` or unknown) the stored one, which is then remembered."""
        key = chain_partition(underlying, expiry)
        if not fresh:
            with self._lock:
                known = self._known.get(key)
            if known is not None:
                return known
        stored = load(table, underlying, expiry)
        self.remember(underlying, expiry, stored if stored.outbox is None else StoredState(None, None))
        return stored

    def remember(self, underlying: str, expiry: str, stored: StoredState) -> None:
        """Remember what was just written; a ``StoredState`` without an ETag forgets the chain."""
        key = chain_partition(underlying, expiry)
        with self._lock:
            if stored.etag is None:
                self._known.pop(key, None)
            else:
                self._known[key] = stored


class ChainTurn:
    """This invocation's turn on one chain (``with``): waits at most ``patience`` seconds for it.

    After that it goes on without the turn, the ETag still guarding the state. Waiting longer would
    pin worker threads that HTTP requests need too (e.g. during a cold start's compilation).
    """

    def __init__(self, lock: threading.Lock, patience: float) -> None:
        self.lock, self.patience, self.held = lock, patience, False

    def __enter__(self) -> ChainTurn:
        self.held = self.lock.acquire(timeout=self.patience)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self.lock.release()
            self.held = False

    def pause(self, seconds: float) -> None:
        """Sleep without the turn (the snapshot being waited for may need it), then take it again."""
        self.__exit__()
        time.sleep(seconds)
        self.__enter__()
