"""In what order a chain's snapshots are applied when the queue delivers them in any order.

Storage queues promise no order, several instances consume at once, the edge sends up to four
snapshots at a time, and a crashed instance's messages come back only when their lease ends. So a
chain's snapshots arrive late, twice, or out of order. Time-series rules need them in order.

A chain has a **cursor**: the producer session and ``seq`` of the last snapshot it consumed, and
the ``ts`` of the last it applied. Snapshots that cannot be applied yet wait in the chain's
**buffer** (parked in storage, acknowledged on the queue). ``next_step`` is the whole policy, a
pure function of the cursor, the buffer and the wall clock:

- **late**: a snapshot at or before the cursor's ``ts`` (not the next ``seq`` of its session):
  the chain has moved past it. It is stored, marked late with the reason, or dropped if that
  instant is already stored (a redelivery). Never skipped in silence.
- **apply** the next ``seq`` of the cursor's session at once.
- a **gap** (the buffer holds the session's seq n+2 but not n+1): wait until ``GAP_WAIT_S`` of
  wall clock have passed since the first snapshot after the gap arrived, or until the buffer holds
  ``GAP_SPAN_S`` of snapshot time beyond the cursor, or ``MAX_BUFFER`` snapshots; then declare
  n+1.. **missing** (a data_error says so) and apply.
- a **new run** (another session, or seq restarting with a later ``ts``): after the same wait,
  for stragglers of the old run, since its end is unknown. A chain's very first snapshot with seq
  0 (or none) is applied at once; with a later seq it waits the same, and the run's seq 0.. that
  never reached the chain are declared missing.
- snapshots without ``seq`` are ordered by ``ts`` alone.
- a **void** is a snapshot refused before ordering (its clock is wrong): it never moves the
  chain's time but fills its ``seq``, so it opens no gap.

Guarantees: a chain never waits more than ``GAP_WAIT_S`` for a snapshot that has not arrived (one
wake message per gap makes sure of it even when nothing else arrives), its buffer never exceeds
``MAX_BUFFER``, and every snapshot ends as applied, late, refused or inside a declared gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

GAP_WAIT_S = 3.0  # wall seconds a missing snapshot is waited for, once its successor has arrived
GAP_SPAN_S = 60.0  # ... unless this much snapshot time after the gap is already waiting
MAX_BUFFER = 600  # ... or this many snapshots


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a chain stands: the producer run and seq last consumed, the ts last applied."""

    session: str | None = None
    seq: int | None = None
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A snapshot waiting for its turn: parked in storage (``key``) or in the invocation's hand."""

    ts: datetime
    seq: int | None
    session: str | None
    arrived: datetime  # wall clock, when it reached the app
    key: str | None = None
    void: bool = False  # refused before ordering: only fills its seq
    enqueued: datetime | None = None  # the queue's insertion time, kept on the history row (not for ordering)


@dataclass(frozen=True, slots=True)
class Step:
    action: str  # "apply" | "late" | "wait"
    item: Pending | None
    reason: str
    missing: tuple[int, int] | None = None  # seq range of item.session declared missing before it
    waited_s: float = 0.0
    wake_at: datetime | None = None  # "wait": when the deadline passes


def _run(p: Pending, cursor: Cursor) -> bool:
    """Is ``p`` of the cursor's producer run, ahead of it by seq?"""
    return (p.seq is not None and cursor.seq is not None and p.session == cursor.session and p.seq > cursor.seq)


def is_late(p: Pending, cursor: Cursor) -> bool:
    if _run(p, cursor):
        return False
    if p.void:  # its ts means nothing: late only if its seq is already behind the cursor in the same run
        return p.seq is None or (p.session == cursor.session and cursor.seq is not None and p.seq <= cursor.seq)
    return cursor.ts is not None and p.ts <= cursor.ts


def next_step(cursor: Cursor, pending: Sequence[Pending], now: datetime) -> Step | None:
    """What to do next with the chain's pending snapshots; None when there are none."""
    if not pending:
        return None
    for p in pending:
        if is_late(p, cursor):
            behind = "its seq is already behind" if p.void else f"the chain is at {cursor.ts:%H:%M:%S.%f}"[:-3]
            return Step("late", p, f"arrived after the chain moved past it ({behind})")
    ahead = sorted((p for p in pending if _run(p, cursor)), key=lambda p: p.seq)
    if ahead:
        head = ahead[0]
        if head.seq == cursor.seq + 1:
            return Step("apply", head, "next in order")
        return _after_wait(cursor, ahead, pending, now, head, (cursor.seq + 1, head.seq - 1),
                           f"seq {cursor.seq + 1} missing")
    runs: dict[str | None, list[Pending]] = {}
    for p in pending:
        runs.setdefault(p.session, []).append(p)
    group = min(runs.values(), key=lambda g: min((p.ts for p in g if not p.void), default=now))
    head = min(group, key=lambda p: (p.seq if p.seq is not None else -1, p.ts))
    if head.seq is None or cursor.seq is None:
        if cursor.ts is None and head.seq not in (None, 0):  # the run started before anything reached the chain
            return _after_wait(cursor, group, pending, now, head, (0, head.seq - 1),
                               f"the chain's first snapshot is seq {head.seq}")
        return Step("apply", head, "first snapshot of the chain" if cursor.ts is None else "next by time")
    missing = (0, head.seq - 1) if head.seq > 0 else None
    return _after_wait(cursor, group, pending, now, head, missing,
                       "a new producer run; the old one may still have snapshots in flight")


def _after_wait(cursor: Cursor, group: Sequence[Pending], pending: Sequence[Pending], now: datetime, head: Pending,
                missing: tuple[int, int] | None, why: str) -> Step:
    """Apply ``head`` (declaring ``missing``) once the wait is over, else wait until its deadline."""
    first = min(p.arrived for p in group)
    waited = (now - first).total_seconds()
    deadline = first + timedelta(seconds=GAP_WAIT_S)
    times = [p.ts for p in group if not p.void]
    span = (max(times) - (cursor.ts or min(times))).total_seconds() if times else 0.0
    if now < deadline and span < GAP_SPAN_S and len(pending) < MAX_BUFFER:
        return Step("wait", None, f"{why}; waiting until {GAP_WAIT_S:.0f} s after the first snapshot behind it "
                    f"arrived ({waited:.1f} s so far)", wake_at=deadline)
    if missing is not None and missing[0] > missing[1]:
        missing = None
    return Step("apply", head, f"{why}; went on after {waited:.1f} s", missing=missing, waited_s=waited)
