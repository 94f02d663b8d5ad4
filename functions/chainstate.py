"""Per-chain state outside the process, so any instance can take the next snapshot.

Everything about a chain lives in one partition of table ``chainstate`` (``SPY-20261124``):

- ``state``: ``last_ts``, the ordering cursor (``order_session``, ``order_seq``), counters
  (``late``, ``missing``), the gzip JSON of ``spyglass.detect.state.ChainState`` and an
  **outbox**: the anomalies of the snapshot that produced this state, and the outcomes it completed;
- the history rows (one per stored snapshot, newest first: ``spyglass/wire/tables.py``);
- ``park-...`` rows: the chain's buffer of snapshots waiting for their turn
  (``functions/ordering.py``), each holding its message text.

Because they share a partition, applying a snapshot is **one entity-group transaction**: its
history row, the new state (only if nobody wrote since our ETag: optimistic concurrency) and the
deletion of its park row commit together or not at all. The outbox's anomalies are written after
the commit (idempotently) and the outbox is then marked flushed, so a loser of a race publishes
nothing and a crash in between loses nothing: whoever loads a pending outbox flushes it first.

Large values (state and history of 5,000 contracts) are split over several 64 KiB properties.

Each process remembers the last state it read or wrote with its ETag (``StateCache``), so the next
snapshot usually costs no read: a stale memory costs a failed conditional write and a reload,
never a wrong state. ``StateCache.mailbox`` gives each chain one drainer per process.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from functions.ordering import Cursor, Pending
from spyglass.detect.state import ChainState
from spyglass.wire.tables import chain_partition, epoch_ms, get_bytes, gz, inverted_row, put_bytes

STATE_ROW = "state"
PARK = "park-"  # park rows: "park-s-<session>-<seq>" or, without seq, "park-t-<epoch ms>"
_PARK_END = "park."


class StateConflict(Exception):
    """Another instance changed the state since it was read."""


@dataclass(frozen=True, slots=True)
class StoredState:
    state: ChainState | None
    etag: str | None  # None: no entity yet
    outbox: dict[str, Any] | None = None  # outputs committed but perhaps not yet written
    cursor: Cursor = Cursor()
    counts: dict[str, int] = field(default_factory=dict)  # late, missing


def _text(seq: int | None) -> str:
    """A seq as stored: text, since the contract allows integers beyond Table storage's Int64."""
    return "" if seq is None else str(seq)


def _seq(stored: str | int) -> int | None:
    if isinstance(stored, int):  # written as a number by an earlier version (-1: none)
        return None if stored < 0 else stored
    return int(stored) if stored else None


def _ungz(data: bytes) -> Any:
    return orjson.loads(gzip.decompress(data))


def load(table: TableClient, underlying: str, expiry: str) -> StoredState:
    try:
        e = table.get_entity(chain_partition(underlying, expiry), STATE_ROW)
    except ResourceNotFoundError:
        return StoredState(None, None)
    state = ChainState.from_dict(_ungz(get_bytes(e, "state")))
    outbox = _ungz(get_bytes(e, "outbox")) if e.get("pending") and e.get("outbox") else None
    if "order_seq" in e:
        cursor = Cursor(e.get("order_session") or None, _seq(e["order_seq"]), state.last_ts)
    else:  # written before the cursor was kept apart from the scorer's state
        cursor = Cursor(None, state.last_seq, state.last_ts)
    counts = {k: int(e.get(k, 0)) for k in ("late", "missing")}
    return StoredState(state, e.metadata["etag"], outbox, cursor, counts)


def commit(table: TableClient, stored: StoredState, state: ChainState, cursor: Cursor, outbox: dict[str, Any],
           counts: dict[str, int] | None = None, history: dict[str, Any] | None = None,
           unpark: str | None = None) -> str:
    """One transaction: the history row, the state (if unchanged since ``stored.etag``), the park row gone.

    Returns the state's new ETag; raises ``StateConflict`` if another writer got there first.
    """
    pk = chain_partition(state.underlying, state.expiry)
    pending = bool(outbox.get("anomalies") or outbox.get("outcomes"))
    entity = {"PartitionKey": pk, "RowKey": STATE_ROW, "last_ts": state.last_ts, "last_seq": _text(state.last_seq),
              "order_session": cursor.session or "", "order_seq": _text(cursor.seq),
              "pending": pending, **(counts if counts is not None else stored.counts)}
    put_bytes(entity, "state", gz(state.to_dict()))
    put_bytes(entity, "outbox", gz(outbox) if pending else b"")
    ops: list[tuple] = []
    if history is not None:
        ops.append(("upsert", history))
    if unpark is not None:
        ops.append(("delete", {"PartitionKey": pk, "RowKey": unpark}))
    if stored.etag is None:
        ops.append(("create", entity))
    else:
        ops.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": stored.etag,
                                       "match_condition": MatchConditions.IfNotModified}))
    try:
        result = table.submit_transaction(ops)
    except TableTransactionError as exc:  # 412 (changed), 409 (both created), 404 (purged, or unparked)
        raise StateConflict(str(exc).splitlines()[0]) from None
    except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError) as exc:
        raise StateConflict(str(exc).splitlines()[0]) from None
    return result[-1]["etag"]


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


# -- the buffer -------------------------------------------------------------------------------


def park_key(p: Pending) -> str:
    if p.seq is not None:
        return f"{PARK}s-{p.session or '~'}-{p.seq:012d}"
    return f"{PARK}t-{max(0, epoch_ms(p.ts)):013d}"


def park(table: TableClient, underlying: str, expiry: str, p: Pending, text: str) -> Pending:
    """Keep a snapshot (its message text) in the chain's buffer until its turn; idempotent."""
    key = park_key(p)
    row = {"PartitionKey": chain_partition(underlying, expiry), "RowKey": key, "ts": p.ts,
           "seq": _text(p.seq), "session": p.session or "", "arrived": p.arrived, "void": p.void}
    if p.enqueued is not None:
        row["enqueued"] = p.enqueued
    table.upsert_entity(put_bytes(row, "message", gzip.compress(text.encode(), compresslevel=1, mtime=0)))
    return replace(p, key=key)


def parked(table: TableClient, underlying: str, expiry: str) -> list[Pending]:
    """The chain's buffer, without the messages."""
    rows = table.query_entities("PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                                parameters={"pk": chain_partition(underlying, expiry), "lo": PARK, "hi": _PARK_END},
                                select=["RowKey", "ts", "seq", "session", "arrived", "void", "enqueued"])
    return [Pending(e["ts"], _seq(e["seq"]), e["session"] or None, e["arrived"], e["RowKey"], bool(e.get("void")),
                    e.get("enqueued")) for e in rows]


def parked_message(table: TableClient, underlying: str, expiry: str, key: str) -> str | None:
    try:
        e = table.get_entity(chain_partition(underlying, expiry), key)
    except ResourceNotFoundError:
        return None  # applied meanwhile by another instance
    return gzip.decompress(get_bytes(e, "message")).decode()


def unpark(table: TableClient, underlying: str, expiry: str, key: str) -> None:
    try:
        table.delete_entity(chain_partition(underlying, expiry), key)
    except ResourceNotFoundError:
        pass


def stored_at(table: TableClient, underlying: str, expiry: str, ts: datetime) -> bool:
    """Is there a history row at ``ts`` (the snapshot, or one at the same instant, is already stored)?"""
    try:
        table.get_entity(chain_partition(underlying, expiry), inverted_row(ts), select=["RowKey"])
    except ResourceNotFoundError:
        return False
    return True


# -- in this process --------------------------------------------------------------------------


class Mailbox:
    """One chain's turn in this process: one drainer at a time, the others leave their snapshot parked.

    ``knock`` says a snapshot was parked while the turn was taken; the drainer looks at the
    buffer again before it leaves (``leave`` returns True when it must). Nobody waits for the turn,
    so a busy chain never holds the worker threads other chains need.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._knocked = False

    def enter(self) -> bool:
        return self._lock.acquire(blocking=False)

    def knock(self) -> None:
        self._knocked = True

    def take_knock(self) -> bool:
        knocked, self._knocked = self._knocked, False
        return knocked

    def leave(self) -> bool:
        """Give the turn back; True if a snapshot was parked meanwhile and the turn could be taken again."""
        self._lock.release()
        return self._knocked and self.enter()

    def release(self) -> None:
        """Give the turn back, whatever happened (an invocation failing)."""
        self._lock.release()


class StateCache:
    """The last known state of each chain in this process with its ETag, and each chain's mailbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, StoredState] = {}
        self._boxes: dict[str, Mailbox] = {}

    def mailbox(self, underlying: str, expiry: str) -> Mailbox:
        with self._lock:
            return self._boxes.setdefault(chain_partition(underlying, expiry), Mailbox())

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

