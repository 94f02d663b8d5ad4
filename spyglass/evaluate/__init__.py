"""Detectors measured against labelled days: precision, recall and false alarms per hour, per type.

- ``evaluate(labels, anomalies, interval_s)``: one day's ``Report`` (label/1 dicts from
  ``spyglass.labels``, anomaly/1 records); ``evaluate_days`` / ``combine``: several days summed.
- ``evaluate_files`` / ``evaluate_day_files``: the same on JSON-lines files, for the CLI.

It reads labels and anomalies only, never the simulator: any producer of label/1 can be scored.
"""

from spyglass.evaluate.events import Event, group_events
from spyglass.evaluate.files import evaluate_day_files, evaluate_files, snapshot_hours
from spyglass.evaluate.report import CleanDays, Report, StaleExposure, TypeScore, combine
from spyglass.evaluate.score import evaluate, evaluate_days, size_bucket


__all__ = [
    "CleanDays",
    "Event",
    "Report",
    "StaleExposure",
    "TypeScore",
    "combine",
    "evaluate",
    "evaluate_day_files",
    "evaluate_days",
    "evaluate_files",
    "group_events",
    "size_bucket",
    "snapshot_hours",
]
