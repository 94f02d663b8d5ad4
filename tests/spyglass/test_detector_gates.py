"""The detectors, gated on messy simulated days: every condition of a real feed, several seeds.

Each scenario (``spyglass.sim.scenarios``) is simulated, sent through the
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
from spyglass.evaluate import Report, combine, evaluate
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import simulate_day
from spyglass.sim.scenarios import SCENARIOS, scenario_config
from spyglass.session import ScoringSession

FULL = os.environ.get("SPYGLASS_GATE_FULL") == "1"
pytestmark = pytest.mark.xdist_group("detector-gates")


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


@pytest.fixture(scope="module")
def days() -> dict[str, Report]:
    """Every gated scenario, its seeds combined; computed once for the module (one xdist group)."""
    out = {name: combine(day(name, seed) for seed in gate.seeds) for name, gate in GATES.items()}
    for name, report in out.items():
        print(f"===== {name}, seeds {GATES[name].seeds}\n{report.to_text()}")
    return out


def labelled(days: dict[str, Report], *, recall: bool) -> Report:
    names = [n for n in days if SCENARIOS[n].labelled and (not recall or n != "small_edges")]
    return combine(days[n] for n in names)


def test_precision_and_recall_across_every_messy_day(days):
    """The issue's gate, over every labelled condition and seed together. Small edges count for precision: a
    false alarm is one whatever the size; their recall is below the documented thresholds by design."""
    every = labelled(days, recall=False)
    assert every.total.precision >= 0.95, every.to_text()
    documented = labelled(days, recall=True)
    assert documented.total.recall >= 0.95, documented.to_text()


@pytest.mark.parametrize("name", [n for n in GATES if SCENARIOS[n].labelled])
def test_no_condition_hides_behind_the_others(days, name):
    """Each condition alone holds a floor, so a good total cannot mask one broken condition (one or two false
    alarms on a short window move a scenario's precision by a few points: the floor is 0.9)."""
    report = days[name]
    text = f"{name}, seeds {GATES[name].seeds}\n{report.to_text()}"
    assert report.total.labels >= len(GATES[name].seeds), text
    assert report.total.precision >= 0.9, text
    if name != "small_edges":
        assert report.total.recall >= 0.9, text


def test_clean_days_stay_quiet(days):
    clean = combine(days[n] for n in days if not SCENARIOS[n].labelled).clean
    assert clean.days == sum(len(GATES[n].seeds) for n in GATES if not SCENARIOS[n].labelled)
    assert clean.market_per_hour <= 0.5, clean
    assert clean.data_error_per_hour <= 0.5, clean


def test_frozen_lines_are_almost_never_market_anomalies(days):
    stale = combine(days.values()).stale
    assert stale.line_snapshots > 1000, stale
    assert stale.share <= 0.01, stale


def test_the_smaller_sizes_are_measured(days):
    """Recall by size is reported, and grows with the size: the larger the edge, the surer the catch."""
    sizes = days["small_edges"].by_size
    assert set(sizes) >= {"mispricing", "volume_spike"}, sizes
    ticks = sizes["mispricing"]
    recall = [ticks[b]["detected"] / ticks[b]["labels"] for b in ticks if ticks[b]["labels"]]
    assert recall[-1] >= recall[0], ticks
