"""What became of every snapshot a scenario sent, read back from the tables alone.

Each sent snapshot is exactly one of:

- **applied**: its history row exists and is not marked late: applied in the chain's order;
- **late**: its history row is marked late: stored after the chain had moved on, with the reason;
- **refused**: a snapshot-level ``data_error`` at its ``ts`` says why it was not applied
  (clock, order, close);
- **missing**: inside a gap the chain declared (a ``data_error`` of subtype ``missing`` names
  the producer session and the seq range);
- **poisoned**: it is in the poison queue (whatever a failed attempt may have written);
- **silently lost**: none of these.

The longest stall of a chain comes from the data too, never from a stopwatch around the
system: each history row's write time (its ``Timestamp``, the storage clock) against the
enqueue times of the snapshots applied in order (``enqueued``: the queue's insertion time, which
the app keeps on the row, or the producer's own record, whichever is later). After each write the chain is stalled from the
latest of that write, the oldest enqueue among the snapshots still to come and the moment the
scenario's fault was repaired, until its next write.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from spyglass.contract import Snapshot, iso_ms
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE
from spyglass.wire.tables import chain_partition

REFUSALS = ("out_of_order", "stale", "after_close", "clock_skew")
_CLAIM_NAME = re.compile(r'"blob":"edge/([A-Z][A-Z0-9.]{0,9})/[0-9-]{10}/([0-9T:.-]{23}Z)')


@dataclass(frozen=True, slots=True)
class Sent:
    """One snapshot a producer handed to the queue (or to the edge spool), and when."""

    underlying: str
    expiry: str
    ts: str  # iso_ms
    seq: int | None
    session: str | None
    enqueued: datetime


@dataclass
class Outcome:
    """What became of one chain's snapshots; ``stall_s`` is its longest stall (after recovery)."""

    underlying: str
    sent: int = 0
    applied: int = 0
    late: int = 0
    missing: int = 0
    refused: int = 0
    poisoned: int = 0
    lost: list[Sent] = field(default_factory=list)
    stall_s: float = 0.0
    expected: int = 0
    found: int = 0

    @property
    def in_order(self) -> float:
        """Share of the snapshots that could be applied (not refused as bad data) applied in order."""
        eligible = self.sent - self.refused - self.poisoned
        return self.applied / eligible if eligible else 1.0

    def line(self) -> str:
        return (f"{self.underlying}: {self.applied}/{self.sent} applied in order, {self.late} late, "
                f"{self.missing} declared missing, {self.refused} refused, {self.poisoned} poisoned, "
                f"{len(self.lost)} silently lost, longest stall {self.stall_s:.1f} s, "
                f"expected anomalies {self.found}/{self.expected}")


def queue(conn: str, name: str = SNAPSHOT_QUEUE) -> QueueClient:
    q = QueueClient.from_connection_string(conn, name, message_encode_policy=TextBase64EncodePolicy())
    try:
        q.create_queue()
    except ResourceExistsError:
        pass
    return q


def account(conn: str, sent: list[Sent], *, recovered: datetime | None = None,
            expected: dict[str, list[tuple]] | None = None) -> dict[str, Outcome]:
    """Classify every sent snapshot, per chain, from the tables and the poison queue."""
    history = TableClient.from_connection_string(conn, "chainstate")
    anomalies = TableClient.from_connection_string(conn, "anomalies")
    poisoned = poisoned_snapshots(conn)
    by_chain: dict[tuple[str, str], list[Sent]] = {}
    for s in sent:
        by_chain.setdefault((s.underlying, s.expiry), []).append(s)
    out: dict[str, Outcome] = {}
    for (u, expiry), items in by_chain.items():
        rows = {iso_ms(e["ts"]): e for e in _query(
            history, "PartitionKey eq @pk and RowKey lt @end", {"pk": chain_partition(u, expiry), "end": ":"},
            ["ts", "late", "enqueued", "Timestamp"])}
        stored = _query(anomalies, "underlying eq @u", {"u": u}, ["ts", "type", "right", "strike", "evidence"])
        errors = [orjson.loads(e["evidence"]) | {"ts": iso_ms(e["ts"]), "right": e.get("right")}
                  for e in stored if e["type"] == "data_error"]
        gaps = [g for g in errors if g.get("subtype") == "missing"]
        refused = {g["ts"] for g in errors if g.get("subtype") in REFUSALS and g["right"] is None}
        o = out.setdefault(u, Outcome(u))
        in_order: list[tuple[datetime, datetime]] = []
        for s in items:
            o.sent += 1
            row = rows.get(s.ts)
            if (u, s.ts) in poisoned:  # first: a failed attempt may have written its history row
                o.poisoned += 1
            elif row is not None and not row.get("late"):
                o.applied += 1
                in_order.append((enqueued(s, row), row.metadata["timestamp"]))
            elif row is not None:
                o.late += 1
            elif s.ts in refused:
                o.refused += 1
            elif any(_in_gap(s, g) for g in gaps):
                o.missing += 1
            else:
                o.lost.append(s)
        o.stall_s = longest_stall(in_order, recovered)
        if expected is not None and u in expected:
            found = [(e["type"], e.get("right"), e.get("strike"), e["ts"]) for e in stored]
            o.expected = len(expected[u])
            o.found = sum(1 for onset in expected[u] if _found(onset, found))
    return out


def _query(table: TableClient, where: str, parameters: dict, select: list[str]) -> list[dict]:
    try:
        return list(table.query_entities(where, parameters=parameters, select=select))
    except ResourceNotFoundError:  # the app creates its tables on first use: none yet, no rows
        return []


def enqueued(s: Sent, row: dict) -> datetime:
    """When the snapshot was enqueued, at the latest moment both records allow.

    The queue's insertion time (kept on the row) has a one-second resolution, truncated; the
    producer's record is taken just before sending, to the millisecond. Both are lower bounds.
    """
    stamped = row.get("enqueued")
    return max(stamped, s.enqueued) if stamped is not None else s.enqueued


def _in_gap(s: Sent, gap: dict) -> bool:
    return (s.seq is not None and gap.get("session") == s.session
            and gap.get("first_seq", -1) <= s.seq <= gap.get("last_seq", -1))


def _found(onset: tuple, stored: list[tuple]) -> bool:
    kind, right, strike, ts = onset
    return any(t == kind and r == right and (k == strike or (k is not None and strike is not None
                                                              and abs(k - strike) < 1e-6))
               and timedelta(0) <= at - ts <= timedelta(seconds=5) for t, r, k, at in stored)


def longest_stall(applied: list[tuple[datetime, datetime]], recovered: datetime | None = None) -> float:
    """Longest time a chain went without a write while a snapshot it would apply in order was waiting.

    ``applied`` holds (enqueued, written) per snapshot applied in order; time before ``recovered``
    (the repair of the scenario's fault) is not counted.
    """
    if not applied:
        return 0.0
    writes = sorted(applied, key=lambda p: p[1])
    earliest = [w[0] for w in writes]  # earliest[k]: the oldest enqueue among writes k, k+1, ...
    for k in range(len(earliest) - 2, -1, -1):
        earliest[k] = min(earliest[k], earliest[k + 1])
    floor = recovered or datetime.min.replace(tzinfo=timezone.utc)
    worst = max(0.0, (writes[0][1] - max(earliest[0], floor)).total_seconds())
    for k in range(len(writes) - 1):
        start = max(writes[k][1], earliest[k + 1], floor)
        worst = max(worst, (writes[k + 1][1] - start).total_seconds())
    return worst


def poisoned_snapshots(conn: str) -> set[tuple[str, str]]:
    """(underlying, ts) of the poison queue's snapshots that still decode."""
    from spyglass.wire.queue import decode

    found: set[tuple[str, str]] = set()
    for m in queue(conn, POISON_QUEUE).peek_messages(max_messages=32):
        text = base64.b64decode(m.content).decode(errors="replace")
        claim = _CLAIM_NAME.search(text)  # a claim-check names its snapshot: edge/<underlying>/<expiry>/<ts>
        if claim:
            found.add(claim.groups())
            continue
        try:
            s = decode(text)
        except Exception:  # noqa: BLE001 - poisoned for a reason: it may not decode at all
            continue
        found.add((s.underlying, iso_ms(s.ts)))
    return found


def expected_onsets(batch: list[dict]) -> list[tuple]:
    """(type, right, strike, ts) of every onset one in-order process finds, snapshot-level data errors aside."""
    from spyglass.session import ScoringSession

    session = ScoringSession()
    onsets = []
    for d in sorted(batch, key=lambda d: d["seq"]):
        for a in session.feed(Snapshot.from_dict(d)).anomalies:
            if a.evidence.get("state") == "new" and not (a.type == "data_error" and a.right is None):
                onsets.append((a.type, a.right, a.strike, a.ts))
    return onsets


def settle(conn: str, sent: Callable[[], list[Sent]], *, timeout: float, quiet: float = 8.0,
           **kw: object) -> dict[str, Outcome]:
    """Account until every snapshot is accounted for, or (some never are) nothing changed for ``quiet`` s
    with the queue empty, or ``timeout``."""
    q = queue(conn)
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while True:
        outcome = account(conn, sent(), **kw)  # type: ignore[arg-type]
        state = tuple((o.applied, o.late, o.missing, o.refused, o.poisoned) for o in outcome.values())
        if state != last:
            last, since = state, time.monotonic()
        if all(not o.lost for o in outcome.values()):
            return outcome
        if time.monotonic() - since > quiet and q.get_queue_properties().approximate_message_count == 0:
            return outcome
        if time.monotonic() > deadline:
            return outcome
        time.sleep(1.0)
