"""Simulated 0DTE market with labelled anomalies, and the scoring of detectors against it.

- ``simulate_day(SimConfig(...))``: an iterator of chain-snapshot/1 dicts; its
  ``labels`` holds the label/1 dicts of what was injected.
- ``evaluate(labels, anomalies, interval_s)``: precision/recall per type.
- ``write_day`` / ``evaluate_files``: the same on JSON-lines files, for the CLI.
- ``scenario_config(name, seed)``: named messy days (``SCENARIOS``); the
  conditions themselves are in ``spyglass.market.conditions``.
- ``evaluate_days`` / ``combine``: several days summed (scenario x seed).
"""

from spyglass.market.conditions import (
    FatFingers,
    Gap,
    OneSidedPulls,
    QuoteAges,
    SessionStart,
    StaleBlocks,
    TradeVolume,
)
from spyglass.market.config import (
    ANOMALY_TYPES,
    CONDITION_SUBTYPES,
    DATA_ERROR_SUBTYPES,
    DEFAULT_RATES,
    INJECTED_TYPES,
    PROFILES,
    InjectionConfig,
    Liquidity,
    SimConfig,
    UnderlyingProfile,
    resolve_session,
)
from spyglass.market.evaluate import Report, TypeScore, combine, evaluate, evaluate_days, group_events
from spyglass.market.labels import LABEL_SCHEMA, dumps_snapshot, make_label, validate_label
from spyglass.market.run import DayFiles, evaluate_day_files, evaluate_files, snapshot_hours, write_day
from spyglass.market.scenarios import CLEAN_SCENARIOS, SCENARIOS, scenario_config
from spyglass.market.simulator import DaySimulation, simulate_day

__all__ = [
    "ANOMALY_TYPES",
    "CLEAN_SCENARIOS",
    "CONDITION_SUBTYPES",
    "DATA_ERROR_SUBTYPES",
    "DEFAULT_RATES",
    "INJECTED_TYPES",
    "LABEL_SCHEMA",
    "PROFILES",
    "SCENARIOS",
    "DayFiles",
    "DaySimulation",
    "FatFingers",
    "Gap",
    "InjectionConfig",
    "Liquidity",
    "OneSidedPulls",
    "QuoteAges",
    "Report",
    "SessionStart",
    "SimConfig",
    "StaleBlocks",
    "TradeVolume",
    "TypeScore",
    "UnderlyingProfile",
    "combine",
    "dumps_snapshot",
    "evaluate",
    "evaluate_day_files",
    "evaluate_days",
    "evaluate_files",
    "group_events",
    "make_label",
    "resolve_session",
    "scenario_config",
    "simulate_day",
    "snapshot_hours",
    "validate_label",
    "write_day",
]
