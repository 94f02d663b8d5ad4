"""An evaluation on JSON-lines files (labels, anomalies, snapshots), for a thin CLI (``spyglass evaluate``)."""

from __future__ import annotations

from pathlib import Path

from spyglass.evaluate.report import Report, combine
from spyglass.evaluate.score import evaluate
from spyglass.jsonl import read_records
from spyglass.labels import parse_ts


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
