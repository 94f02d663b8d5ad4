"""Scorer behaviour across snapshots: refusals, idempotence, state round trips, any underlying."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import orjson
import pytest

from spyglass.detect.scorer import Scorer
from spyglass.detect.state import ChainState
from spyglass.session import ScoringSession
from tests.spyglass.chainkit import CLOSE, T0, ChainKit
from tests.spyglass.detect.test_rules import QUICK, shift


def events(kit):
    i = kit.index("C", 600)
    ev = {s: shift("C", 602, 0.10, kit) for s in range(20, 30)}
    ev[40] = {"volume_add": {i: 3000}}
    return ev


def test_out_of_order_snapshot_is_a_data_error_and_leaves_state_alone():
    kit = ChainKit()
    snaps = list(kit.stream(T0, 3))
    scorer = Scorer()
    r0 = scorer.score(snaps[0])
    r2 = scorer.score(snaps[2], r0.state)
    late = scorer.score(snaps[1], r2.state)
    assert not late.scored and late.state is r2.state
    assert [(a.type, a.evidence["subtype"], a.right, a.strike) for a in late.anomalies] == [
        ("data_error", "out_of_order", None, None)]


def test_repeated_snapshot_is_stale_not_rescored():
    kit = ChainKit()
    snap = kit.snapshot(T0)
    scorer = Scorer()
    first = scorer.score(snap)
    again = scorer.score(snap, first.state)
    assert not again.scored
    assert again.anomalies[0].evidence["subtype"] == "stale" and again.anomalies[0].evidence["identical"] is True


def test_snapshot_after_the_close_is_refused():
    kit = ChainKit()
    snap = kit.snapshot(T0)
    late = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__}, "ts": CLOSE + timedelta(seconds=1)})
    result = Scorer().score(late)
    assert not result.scored and result.anomalies[0].evidence["subtype"] == "after_close"


def test_scoring_twice_gives_identical_ids():
    def ids():
        kit = ChainKit(seed=9)
        session = ScoringSession()
        return [a.id for snap in kit.stream(T0, 45, events(kit)) for a in session.feed(snap).anomalies]

    first = ids()
    assert first and first == ids()


def test_state_saved_to_json_between_every_snapshot_changes_nothing():
    """The Functions app keeps state outside the process; the round trip must be lossless."""
    kit_a, kit_b = ChainKit(seed=9), ChainKit(seed=9)
    session = ScoringSession(QUICK)
    in_memory = [a.to_dict() for s in kit_a.stream(T0, 45, events(kit_a)) for a in session.feed(s).anomalies]
    scorer, state, persisted = Scorer(QUICK), None, []
    for snap in kit_b.stream(T0, 45, events(kit_b)):
        result = scorer.score(snap, state)
        persisted += [a.to_dict() for a in result.anomalies]
        state = ChainState.from_dict(orjson.loads(orjson.dumps(result.state.to_dict())))
    assert {a["type"] for a in in_memory} >= {"mispricing", "volume_spike"}
    assert persisted == in_memory


def test_other_underlyings_work_the_same_way():
    kit = ChainKit(spot=520.0, underlying="QQQ", seed=4)
    session = ScoringSession()
    found = [a for snap in kit.stream(T0, 12, {s: shift("C", 522, 0.12, kit) for s in range(6, 12)})
             for a in session.feed(snap).anomalies]
    assert [(a.underlying, a.type, a.strike) for a in found
            if a.type == "mispricing" and a.evidence["state"] == "new"] == [("QQQ", "mispricing", 522.0)]


def test_analytics_describe_the_chain():
    kit = ChainKit(seed=2)
    result = ScoringSession().feed(kit.snapshot(T0))
    a = result.analytics.to_dict()
    t, fwd, *_ = kit.arrays(T0)
    assert a["schema"] == "chain-analytics/1"
    assert abs(a["forward"] - fwd) < 0.02
    assert abs(a["atm_iv"] - kit.atm) < 0.005
    # straddle ~ 0.8 sigma sqrt(T) S for an ATM straddle
    assert 0.7 < a["expected_move"] / a["expected_move_1sd"] < 0.9
    assert a["rr25_vol_points"] < -1.0  # put skew: 25-delta put above the call
    # more put than call open interest at every strike: dealers short gamma under the stated convention
    assert a["gex"]["total"] < 0 and all(g <= 0 for g in a["gex"]["by_strike"])
    assert len(a["contracts"]["strike"]) == 2 * kit.strikes.size
    assert a["data_quality"]["grade"] == "good"


def test_expiry_without_a_session_falls_back_to_four_pm_new_york():
    from datetime import date, datetime, timezone

    from spyglass.analytics.pricing import expiry_close_of
    from spyglass.config import underlying_spec

    snap = ChainKit().snapshot(T0)
    saturday = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__}, "expiry": date(2026, 11, 28),
                                 "expiry_close": None})
    assert expiry_close_of(saturday, underlying_spec("SPY")) == datetime(2026, 11, 28, 21, 0, tzinfo=timezone.utc)
    thanksgiving_friday = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__},
                                            "expiry": date(2026, 11, 27), "expiry_close": None})
    assert expiry_close_of(thanksgiving_friday, underlying_spec("SPY")) == datetime(2026, 11, 27, 18, 0,
                                                                                  tzinfo=timezone.utc)


def test_risk_reversal_matches_the_true_smile():
    import math

    from scipy.optimize import brentq
    from scipy.stats import norm

    from tests.spyglass.chainkit import true_vol

    kit = ChainKit(seed=2)
    a = ScoringSession().feed(kit.snapshot(T0)).analytics
    t, fwd, *_ = kit.arrays(T0)
    sd = kit.atm * math.sqrt(t)

    def vol_at_delta(target):
        def f(z):
            s = true_vol(np.array([z]), kit.atm)[0] * math.sqrt(t)
            return norm.cdf(-z * sd / s + 0.5 * s) - target
        return true_vol(np.array([brentq(f, -6, 6)]), kit.atm)[0]

    assert a["iv_25d_call"] == pytest.approx(vol_at_delta(0.25), abs=0.003)
    assert a["iv_25d_put"] == pytest.approx(vol_at_delta(0.75), abs=0.003)


def test_a_snapshot_without_a_simulated_source_is_not_called_simulated():
    snap = ChainKit().snapshot(T0)
    assert snap.source is None and ScoringSession().feed(snap).analytics["simulated"] is False
