"""File-level entry points for a thin CLI (``spyglass simulate`` / ``spyglass evaluate``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spyglass.market.config import SimConfig
from spyglass.market.evaluate import Report, combine, evaluate
from spyglass.jsonl import open_sink, read_records, write_records
from spyglass.market.labels import dumps_snapshot, parse_ts
from spyglass.market.simulator import simulate_day


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


def snapshot_hours(snapshots_path: str | Path, interval_s: float) -> float:
    """Hours covered by a snapshots file: first to last ts, plus one interval."""
    stamps = [parse_ts(rec["ts"]) for rec in read_records(snapshots_path)]
    if not stamps:
        return 0.0
    return ((max(stamps) - min(stamps)).total_seconds() + interval_s) / 3600.0


def evaluate_files(
    labels_path: str | Path,
    anomalies_path: str | Path,
    interval_s: float | None = None,
    *,
    snapshots_path: str | Path | None = None,
    hours: float | None = None,
) -> Report:
    """``evaluate`` on JSON-lines files; with ``snapshots_path``, false alarms are per hour of snapshots."""
    labels = list(read_records(labels_path))
    anomalies = list(read_records(anomalies_path))
    if snapshots_path is not None:
        found = next((lb["detail"].get("interval_s") for lb in labels if lb.get("detail")), None)
        interval_s = interval_s or found or _snapshot_interval(snapshots_path)
        if hours is None:
            hours = snapshot_hours(snapshots_path, float(interval_s))
    return evaluate(labels, anomalies, interval_s, hours=hours)


def evaluate_day_files(
    days: list[tuple[str | Path, str | Path, str | Path | None]], interval_s: float | None = None
) -> Report:
    """Several days, each (labels, anomalies, snapshots or None), scored one by one and summed."""
    return combine(evaluate_files(lb, an, interval_s, snapshots_path=sn) for lb, an, sn in days)


def _snapshot_interval(snapshots_path: str | Path) -> float:
    """The step between the first two snapshots (a day without labels says nothing of its interval)."""
    stamps = []
    for rec in read_records(snapshots_path):
        stamps.append(parse_ts(rec["ts"]))
        if len(stamps) == 2:
            return max((stamps[1] - stamps[0]).total_seconds(), 0.0) or 1.0
    return 1.0
