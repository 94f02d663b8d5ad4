"""The detectors, measured: precision and recall on simulated days with labelled injected anomalies.

Whole sessions, open to close, including the last minutes where IV is
ill-conditioned; different seeds, intervals and underlyings, so the rules are
not tuned to one path.
"""

from __future__ import annotations

from datetime import date

import pytest

from spyglass.contract import Snapshot
from spyglass.market import InjectionConfig, SimConfig, dumps_snapshot, evaluate, simulate_day
from spyglass.session import ScoringSession

CASES = {
    "SPY full day, 2 s": SimConfig(trading_date=date(2026, 11, 24), seed=11, interval_s=2.0),
    "SPY last 90 minutes, 1 s, busy": SimConfig(
        trading_date=date(2026, 11, 20), seed=12, start="14:30",
        injection=InjectionConfig(rates={t: 8.0 for t in InjectionConfig().rates}),
    ),
    "QQQ morning, 1 s": SimConfig(underlying="QQQ", trading_date=date(2026, 11, 23), seed=13, end="11:30"),
}


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def report(request):
    cfg = CASES[request.param]
    sim = simulate_day(cfg)
    session = ScoringSession()
    anomalies = []
    for d in sim:
        snapshot = Snapshot.from_json(dumps_snapshot(d))  # through the wire format, NaN literals included
        anomalies += [a.to_dict() for a in session.feed(snapshot).anomalies]
    return evaluate(sim.labels, anomalies, cfg.interval_s)


def test_recall_at_least_0_9(report):
    assert report.total.recall >= 0.9, report.to_text()


def test_precision_at_least_0_95(report):
    assert report.total.precision >= 0.95, report.to_text()


def test_every_type_is_detected(report):
    missed = {t: s.recall for t, s in report.by_type.items() if s.labels and not s.recall >= 0.8}
    assert not missed, report.to_text()
