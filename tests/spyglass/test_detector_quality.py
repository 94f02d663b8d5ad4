"""The detectors, measured: precision and recall on simulated days with labelled injected anomalies.

Whole sessions, open to close, including the last minutes where IV is
ill-conditioned; different seeds, intervals and underlyings, so the rules are
not tuned to one path.
"""

from __future__ import annotations

from datetime import date

import pytest

from spyglass.contract import Snapshot
from spyglass.evaluate import evaluate
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import InjectionConfig, SimConfig, simulate_day
from spyglass.session import ScoringSession

CASES = {
    "SPY full day, 2 s": SimConfig(trading_date=date(2026, 11, 24), seed=11, interval_s=2.0),
    "SPY last 90 minutes, 1 s, busy": SimConfig(
        trading_date=date(2026, 11, 20), seed=12, start="14:30",
        injection=InjectionConfig(rates={t: 8.0 for t in InjectionConfig().rates}),
    ),
    "QQQ morning, 1 s": SimConfig(underlying="QQQ", trading_date=date(2026, 11, 23), seed=13, end="11:30"),
}


def score_day(cfg: SimConfig):
    sim = simulate_day(cfg)
    session = ScoringSession()
    anomalies = []
    for d in sim:
        snapshot = Snapshot.from_json(dumps_snapshot(d))  # through the wire format, NaN literals included
        anomalies += [a.to_dict() for a in session.feed(snapshot).anomalies]
    return evaluate(sim.labels, anomalies, cfg.interval_s)


# Known weakness, measured and held (issue 10's note): eight times the usual injections over the last 90 minutes
# stack anomalies on the few at-the-money strikes that still carry a price; an injected iv_jump on one line there
# drags the fit at its strike, so its same-strike partner reads as mispriced, and mispricings stacked on those
# strikes are missed (precision 0.78, mispricing recall 0.67 measured; the ordinary close, early_close in the gates,
# holds 0.95). These floors keep it from getting worse; (precision, recall of each type).
FLOORS = {"SPY last 90 minutes, 1 s, busy": (0.75, 0.6)}


@pytest.mark.parametrize("case", list(CASES))
def test_precision_and_recall_on_a_simulated_session(case):
    report = score_day(CASES[case])
    text = report.to_text()
    assert report.total.labels >= 20, text
    assert report.total.recall >= 0.9, text
    precision, type_recall = FLOORS.get(case, (0.95, 0.75))
    assert report.total.precision >= precision, text
    weak = {t: s.recall for t, s in report.by_type.items() if s.labels and not s.recall >= type_recall}
    assert not weak, text
