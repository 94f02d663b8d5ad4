"""A simulated day written to JSON-lines files, for a thin CLI (``spyglass simulate``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spyglass.jsonl import dumps_snapshot, open_sink, write_records
from spyglass.sim.config import SimConfig
from spyglass.sim.simulator import simulate_day


@dataclass(frozen=True)
class DayFiles:
    snapshots: int  # lines written (including injected repeats)
    labels: int
    skipped: list[dict[str, Any]]  # scheduled injections (and condition episodes) that found no eligible line
    first_ts: str | None
    last_ts: str | None


def write_day(
    config: SimConfig,
    snapshots_path: str | Path,
    labels_path: str | Path | None = None,
    *,
    progress: bool = False,
    nan: str = "literal",
) -> DayFiles:
    """Simulate ``config`` into JSON-lines files: snapshots (``-`` for stdout) and labels.

    ``nan="literal"`` writes injected NaN prices as ``NaN`` (Python's json), ``"null"`` as null.
    """
    sim = simulate_day(config, progress=progress)
    n = 0
    first = last = None
    with open_sink(snapshots_path) as out:
        for snap in sim:
            out.write(dumps_snapshot(snap, nan=nan))
            out.write(b"\n")
            n += 1
            first = first or snap["ts"]
            last = snap["ts"] if last is None or snap["ts"] > last else last
    labels = sim.labels
    if labels_path is not None:
        write_records(labels_path, labels)
    return DayFiles(n, len(labels), sim.skipped, first, last)
