"""On the project's simulator the market grades the alerts as it should: injected mispricings earn, noise costs.

The detectors raise no false alarms on clean days any more, so the noise is made on purpose: a clean
hour scored with the mispricing thresholds removed (k = 0, no minimum edge), whose alerts are quotes
inside their ordinary wobble. Their trades cost the spread and the fees; the injected mispricings,
which come back to fair when their injection ends, earn their edge.
"""

from __future__ import annotations

import dataclasses

import pytest

from spyglass.config import DetectorConfig
from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.outcome import Grade, grade
from spyglass.session import ScoringSession
from spyglass.sim import simulate_day
from spyglass.sim.config import InjectionConfig
from spyglass.sim.scenarios import scenario_config


def graded(seed: int, injected: bool, config: DetectorConfig) -> dict[str, Grade]:
    cfg = scenario_config("clean", seed, start="10:00", end="11:00")
    if injected:
        cfg = dataclasses.replace(cfg, injection=InjectionConfig(rates={"mispricing": 12.0}))
    session, marks = ScoringSession(config), []
    for d in simulate_day(cfg):
        marks += session.feed(Snapshot.from_json(dumps_snapshot(d))).outcomes
    marks += session.close_day()
    return {g.horizon: g for g in grade(marks) if g.type == "mispricing"}


@pytest.fixture(scope="module")
def injected() -> dict[str, Grade]:
    return graded(5, True, DetectorConfig())


@pytest.fixture(scope="module")
def noise() -> dict[str, Grade]:
    return graded(6, False, DetectorConfig(mispricing_k=0.0, mispricing_min_edge=-5.0))


def test_injected_mispricings_earn_once_the_quote_comes_back(injected):
    assert injected["2m"].n >= 8
    for horizon in ("2m", "5m"):
        g = injected[horizon]
        assert g.mean > 0 and g.ci_low > 0 and g.share_positive >= 0.75, g
        assert g.mean_exit > 0, g  # even closing across the spread


def test_alerts_on_noise_cost_the_spread_and_the_fees(noise, injected):
    assert noise["30s"].n >= 50
    for horizon in ("30s", "2m"):
        g = noise[horizon]
        assert g.mean_exit < 0 and g.share_positive < 0.5, g
        assert g.mean < injected[horizon].mean, (g, injected[horizon])
