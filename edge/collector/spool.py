"""The durable spool: every snapshot is committed to SQLite on the PVC before anything is sent.

Storage: one SQLite file in WAL mode. Writers of new snapshots (``append``) use
``synchronous=FULL``: in WAL mode that fsyncs the log on every commit, so an
accepted snapshot survives a process kill *and* a node power cut. At one snapshot
per second per chain the fsync (a few ms) costs nothing that matters. The drain's
connection (``read_after`` / ``remove``) uses ``synchronous=NORMAL``: a delete lost
to a power cut only means that snapshot is sent once more, which the consumer recognises
as a redelivery (functions/ingest.py), so acknowledgements need no fsync of their own.

Order: rows are drained by ``id`` (an AUTOINCREMENT rowid), i.e. in the order they
were accepted, across restarts.

Bound and policy (``max_count`` snapshots and/or ``max_bytes`` of encoded messages):
when the spool is full, ``append`` **refuses** the new snapshot with ``SpoolFull``
(backpressure). What the spool already holds is never dropped, so "accepted" keeps
meaning "will be delivered". The refusal is loud: an ERROR log on the transition to
full, the ``spool_full`` gauge at 1, the ``spool_refused`` counter for every refused
snapshot, and readiness false (``Publisher.readiness``); the caller logs each loss.
Why refuse rather than evict the oldest: the spool's promise is that nothing it
accepted is lost, and dropping the history silently in the middle of a replayed
outage would corrupt every time-series rule downstream; a gap at the newest end is
visible (seq jumps) and the consumer declares it missing after its gap deadline. The
default bound (``DEFAULT_MAX_COUNT``, ``DEFAULT_MAX_BYTES``) holds more than a full
session of one chain at 1 snapshot/s, so it is reached only after a long outage.

One process at a time: the spool takes an exclusive ``flock`` on ``<path>.lock``
(released by the kernel even on SIGKILL), because two drains of one spool would
double-send everything. This is also why the collector Deployment is ``Recreate``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from edge.collector import metrics

log = logging.getLogger(__name__)

DEFAULT_MAX_COUNT = 50_000  # > 2 sessions of 6.5 h at 1 snapshot/s
DEFAULT_MAX_BYTES = 1 << 30  # 1 GiB of compact messages (~6 KB each for 242 contracts)
WARN_FRACTION = 0.8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    key     TEXT    NOT NULL,
    seq     INTEGER,
    message TEXT    NOT NULL,
    size    INTEGER NOT NULL
)
"""


class SpoolError(RuntimeError):
    """The spool cannot accept or hand out snapshots; the text says why."""


class SpoolFull(SpoolError):
    """The spool is at its bound: the snapshot was NOT accepted (policy: refuse new, keep old)."""


class SpoolLocked(SpoolError):
    """Another process holds this spool."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One spooled message: ``message`` is the queue text (compact ``gz:`` form)."""

    id: int
    key: str
    seq: int | None
    message: str


class Spool:
    """Append-only durable FIFO of queue messages with a bound; thread-safe."""

    def __init__(self, path: str | os.PathLike[str], *, max_count: int = DEFAULT_MAX_COUNT,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_count <= 0 or max_bytes <= 0:
            raise ValueError("spool bounds must be positive")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_count, self.max_bytes = max_count, max_bytes
        self._lockfile = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise SpoolLocked(f"spool {self.path} is in use by another process") from None
        self._lock = threading.Lock()
        self._writer = self._connect("FULL")
        self._writer.execute(_SCHEMA)
        self._reader = self._connect("NORMAL")
        self._count, self._bytes = self._writer.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM spool").fetchone()
        self._full = False
        self._closed = False
        self._publish_gauges()

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        # autocommit mode (isolation_level=None): each statement commits on its own, explicit BEGIN for batches
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        return conn

    # -- state -----------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return self._count

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @property
    def full(self) -> bool:
        return self._full

    # -- writing ---------------------------------------------------------------------

    def append(self, key: str, seq: int | None, message: str) -> int:
        """Commit one message (fsync'd) and return its id; raise SpoolFull at the bound."""
        size = len(message)
        with self._lock:
            self._check_open()
            if self._count + 1 > self.max_count or self._bytes + size > self.max_bytes:
                self._refuse(key)
            try:
                cur = self._writer.execute("INSERT INTO spool (key, seq, message, size) VALUES (?, ?, ?, ?)",
                                           (key, seq, message, size))
            except sqlite3.Error as exc:  # disk full, I/O error: the snapshot is not accepted
                raise SpoolError(f"cannot write {key} to the spool {self.path}: {exc}") from exc
            self._count += 1
            self._bytes += size
            if self._count == int(self.max_count * WARN_FRACTION):
                log.warning("spool at %d%% of its bound (%d of %d snapshots): the queue is not keeping up",
                            int(WARN_FRACTION * 100), self._count, self.max_count)
            self._publish_gauges()
            return int(cur.lastrowid or 0)

    def _refuse(self, key: str) -> None:
        metrics.SPOOL_REFUSED.inc()
        if not self._full:
            self._full = True
            metrics.SPOOL_FULL.set(1)
            log.error("SPOOL FULL (%d snapshots, %d bytes; bound %d / %d): refusing new snapshots until the "
                      "queue drains it; nothing already spooled is dropped", self._count, self._bytes,
                      self.max_count, self.max_bytes)
        raise SpoolFull(f"spool full ({self._count} snapshots, {self._bytes} bytes): {key} refused")

    # -- draining --------------------------------------------------------------------

    def read_after(self, after_id: int, limit: int) -> list[Entry]:
        """The next ``limit`` messages with id > ``after_id``, oldest first."""
        with self._lock:
            self._check_open()
            rows = self._reader.execute(
                "SELECT id, key, seq, message FROM spool WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
            ).fetchall()
        return [Entry(*row) for row in rows]

    def remove(self, ids: list[int]) -> None:
        """Delete acknowledged messages (one transaction)."""
        if not ids:
            return
        with self._lock:
            self._check_open()
            conn = self._reader
            conn.execute("BEGIN IMMEDIATE")
            try:
                removed, freed = 0, 0
                for i in range(0, len(ids), 500):  # SQLite's variable limit
                    part = ids[i:i + 500]
                    marks = ",".join("?" * len(part))
                    n, b = conn.execute(f"SELECT count(*), coalesce(sum(size), 0) FROM spool WHERE id IN ({marks})",
                                        part).fetchone()
                    conn.execute(f"DELETE FROM spool WHERE id IN ({marks})", part)
                    removed, freed = removed + n, freed + b
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._count -= removed
            self._bytes -= freed
            if self._full and self._count < self.max_count and self._bytes < self.max_bytes:
                self._full = False
                metrics.SPOOL_FULL.set(0)
                log.warning("spool below its bound again (%d snapshots): accepting snapshots", self._count)
            self._publish_gauges()

    def _publish_gauges(self) -> None:
        metrics.SPOOL_DEPTH.set(self._count)
        metrics.SPOOL_BYTES.set(self._bytes)

    # -- lifecycle -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise SpoolError(f"spool {self.path} is closed")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self._count == 0:
                    self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._reader.close()
            self._writer.close()
            fcntl.flock(self._lockfile, fcntl.LOCK_UN)
            self._lockfile.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
