"""The detectors, gated on messy simulated days: every condition of a real feed, several seeds.

Each scenario (``spyglass.market.scenarios``) is simulated, sent through the
wire format, scored and evaluated against its labels. The gates are the
issue's: precision >= 0.95 and recall >= 0.95 on labelled days (labels that
nothing could see are not counted: see docs/evaluation.md), <= 0.5 false
alarms an hour on clean days, <= 1% of frozen line-snapshots reported as
market anomalies. Windows are cut so the whole module runs in a few minutes
on two workers; ``SPYGLASS_GATE_FULL=1`` runs every scenario's whole window.
The smaller injected sizes are measured and printed, and gated on precision
only: their recall is what the report says it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from spyglass.contract import Snapshot
from spyglass.market import dumps_snapshot, simulate_day
from spyglass.market.evaluate import Report, combine, evaluate
from spyglass.market.scenarios import SCENARIOS, scenario_config
from spyglass.session import ScoringSession

FULL = os.environ.get("SPYGLASS_GATE_FULL") == "1"


@dataclass(frozen=True)
class Gate:
    seeds: tuple[int, ...]
    window: dict = field(default_factory=dict)  # start/end overrides that keep CI quick


GATES = {
    "clean": Gate((1, 2)),
    "clean_no_age": Gate((3,), {"end": "12:30"}),
    "stale": Gate((1, 2), {"end": "11:00"}),
    "stale_no_age": Gate((3, 4), {"end": "11:00"}),
    "fat_finger": Gate((1, 2), {"end": "11:00"}),
    "gap": Gate((1, 2, 3), {"start": "10:20", "end": "10:40"}),
    "gap_twin": Gate((1, 2, 3), {"start": "10:20", "end": "10:40"}),
    "early_close": Gate((1,)),
    "qqq": Gate((1, 2), {"end": "12:30"}),
    "session_start": Gate((1, 2)),
    "messy": Gate((1, 2)),
    "small_edges": Gate((1, 2)),
}


def day(name: str, seed: int) -> Report:
    cfg = scenario_config(name, seed, **({} if FULL else GATES[name].window))
    sim = simulate_day(cfg)
    session = ScoringSession()
    anomalies = []
    first = last = None
    for d in sim:
        snapshot = Snapshot.from_json(dumps_snapshot(d))  # through the wire format, NaN literals included
        first, last = first or snapshot.ts, snapshot.ts
        anomalies += [a.to_dict() for a in session.feed(snapshot).anomalies]
    hours = ((last - first).total_seconds() + cfg.interval_s) / 3600.0
    return evaluate(sim.labels, anomalies, cfg.interval_s, hours=hours)


def test_every_scenario_has_a_gate():
    assert set(GATES) == set(SCENARIOS)


@pytest.mark.parametrize("name", list(GATES))
def test_detectors_on_a_messy_day(name: str) -> None:
    report = combine(day(name, seed) for seed in GATES[name].seeds)
    text = f"{name}, seeds {GATES[name].seeds}\n{report.to_text()}"
    print(text)
    total = report.total
    if not SCENARIOS[name].labelled:
        assert report.clean.days == len(GATES[name].seeds), text
        assert report.clean.market_per_hour <= 0.5, text
        assert report.clean.data_error_per_hour <= 0.5, text
        return
    assert total.labels >= 5, text
    assert total.precision is not None and total.precision >= 0.95, text
    if name == "small_edges":  # below the documented thresholds by design: recall is measured, not gated
        assert report.by_size, text
        return
    assert total.recall >= 0.95, text
    if report.stale.line_snapshots:
        assert report.stale.share <= 0.01, text
