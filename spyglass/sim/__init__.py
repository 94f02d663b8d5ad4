"""The project's own 0DTE market simulator: a seeded day of chain snapshots with labelled anomalies.

- ``simulate_day(SimConfig(...))``: an iterator of chain-snapshot/1 dicts; its
  ``labels`` holds the label/1 dicts (``spyglass.labels``) of what was injected.
- ``write_day``: the same into JSON-lines files, for the CLI.
- ``scenario_config(name, seed)``: named messy days (``SCENARIOS``); the
  conditions themselves are in ``spyglass.sim.conditions``.

Scoring detectors against the labels is ``spyglass.evaluate``'s job.
"""

from spyglass.sim.conditions import (
    FatFingers,
    Gap,
    OneSidedPulls,
    QuoteAges,
    SessionStart,
    StaleBlocks,
    TradeVolume,
)
from spyglass.sim.config import (
    DEFAULT_RATES,
    INJECTED_TYPES,
    PROFILES,
    InjectionConfig,
    Liquidity,
    SimConfig,
    UnderlyingProfile,
    last_session_on_or_before,
    resolve_session,
)
from spyglass.sim.files import DayFiles, write_day
from spyglass.sim.scenarios import CLEAN_SCENARIOS, SCENARIOS, scenario_config
from spyglass.sim.simulator import DaySimulation, simulate_day

__all__ = [
    "CLEAN_SCENARIOS",
    "DEFAULT_RATES",
    "INJECTED_TYPES",
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
    "SessionStart",
    "SimConfig",
    "StaleBlocks",
    "TradeVolume",
    "UnderlyingProfile",
    "last_session_on_or_before",
    "resolve_session",
    "scenario_config",
    "simulate_day",
    "write_day",
]
