"""In what order snapshots of one chain are applied when queue delivery is not in order.

Storage queues give no ordering, several instances consume at once, and the
edge drains its spool in bursts, so snapshots of one chain arrive late, twice
or out of order. Time-series rules need them in order. Rules, by snapshot time
``ts`` and the edge's per-session counter ``seq``:

- the first snapshot of a chain: **apply** if its ``seq`` is 0 or absent, else
  **hold** briefly (a burst may deliver seq 3 before seq 0).
- ``ts`` after the last applied, and ``seq`` next (or absent, or reset by a new
  edge session): **apply**.
- ``ts`` after the last applied but ``seq`` skips ahead: an earlier snapshot is
  still in flight: **hold** (re-enqueue with a short delay) for up to
  ``HOLD_SECONDS``, then apply anyway (the gap is declared lost; rates are per
  second, so a gap only widens one interval).
- ``seq`` not after the last applied and ``ts`` not after it either: a
  redelivery or a snapshot given up on: **skip** (acknowledged, no output: the
  same message twice gives one anomaly).
- otherwise (``ts`` goes backwards while ``seq`` goes forward, or no ``seq`` and
  ``ts`` not after): the feed itself is out of order or stale: **score**, and
  the scorer reports it as a ``data_error`` without touching the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spyglass.contract import Snapshot
from spyglass.detect.state import ChainState

HOLD_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # "apply" | "hold" | "skip" | "score"
    reason: str


def decide(snapshot: Snapshot, state: ChainState | None, held_since: datetime | None, now: datetime) -> Decision:
    seq = snapshot.seq
    waited = (now - held_since).total_seconds() if held_since else 0.0
    if state is None or state.last_ts is None:
        if seq and waited < HOLD_SECONDS:  # a burst may deliver seq 3 before seq 0 of a new chain
            return Decision("hold", f"first snapshot of the chain is seq {seq}; waiting for earlier ones")
        return Decision("apply", "first snapshot of the chain")
    last_seq = state.last_seq
    if snapshot.ts > state.last_ts:
        if seq is None or last_seq is None or seq <= last_seq + 1:
            return Decision("apply", "next in order" if seq != 0 or last_seq is None else "new edge session")
        if waited < HOLD_SECONDS:
            return Decision("hold", f"seq {seq} arrived before {last_seq + 1}; waiting for it ({waited:.1f} s)")
        return Decision("apply", f"seq {last_seq + 1}..{seq - 1} not seen after {waited:.1f} s; declared lost")
    if seq is not None and last_seq is not None and seq <= last_seq:
        return Decision("skip", f"seq {seq} already passed (last applied {last_seq}): redelivery or given up")
    return Decision("score", "snapshot time is not after the last applied: out of order or stale feed")
