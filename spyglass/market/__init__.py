"""Simulated 0DTE market with labelled anomalies, and the scoring of detectors against it.

- ``simulate_day(SimConfig(...))``: an iterator of chain-snapshot/1 dicts; its
  ``labels`` holds the label/1 dicts of what was injected.
- ``evaluate(labels, anomalies, interval_s)``: precision/recall per type.
- ``write_day`` / ``evaluate_files``: the same on JSON-lines files, for the CLI.
"""

from spyglass.market.config import (
    ANOMALY_TYPES,
    DATA_ERROR_SUBTYPES,
    DEFAULT_RATES,
    INJECTED_TYPES,
    PROFILES,
    InjectionConfig,
    SimConfig,
    UnderlyingProfile,
    resolve_session,
)
from spyglass.market.evaluate import Report, TypeScore, evaluate, group_events
from spyglass.market.labels import LABEL_SCHEMA, dumps_snapshot, make_label, validate_label
from spyglass.market.run import DayFiles, evaluate_files, snapshot_hours, write_day
from spyglass.market.simulator import DaySimulation, simulate_day

__all__ = [
    "ANOMALY_TYPES",
    "DATA_ERROR_SUBTYPES",
    "DEFAULT_RATES",
    "INJECTED_TYPES",
    "LABEL_SCHEMA",
    "PROFILES",
    "DayFiles",
    "DaySimulation",
    "InjectionConfig",
    "Report",
    "SimConfig",
    "TypeScore",
    "UnderlyingProfile",
    "dumps_snapshot",
    "evaluate",
    "evaluate_files",
    "group_events",
    "make_label",
    "resolve_session",
    "simulate_day",
    "snapshot_hours",
    "validate_label",
    "write_day",
]
