import math

import numpy as np
import pytest

from spyglass.analytics.forward import parity_forward
from tests.spyglass.chainkit import T0, ChainKit


def test_parity_forward_recovers_the_true_forward_within_the_quotes():
    kit = ChainKit(seed=5)
    snap = kit.snapshot(T0)
    t, fwd, *_ = kit.arrays(T0)
    est = parity_forward(snap.chain, snap.spot, t, kit.rate)
    assert est.method == "parity" and est.pairs == 8
    assert est.forward == pytest.approx(fwd, abs=0.01)
    assert est.lower <= est.forward <= est.upper


def test_one_broken_pair_does_not_move_the_forward():
    kit = ChainKit(seed=5)
    i = kit.index("C", 600)

    def break_pair(q, *_):
        q["bid"][i] += 0.40
        q["ask"][i] += 0.40

    snap = kit.snapshot(T0, mutate=break_pair)
    t, fwd, *_ = kit.arrays(T0)
    assert parity_forward(snap.chain, snap.spot, t, kit.rate).forward == pytest.approx(fwd, abs=0.02)


def test_falls_back_to_carry_without_two_sided_pairs():
    kit = ChainKit()

    def one_sided(q, *_):
        q["bid"][:] = np.nan

    snap = kit.snapshot(T0, mutate=one_sided)
    t, *_ = kit.arrays(T0)
    est = parity_forward(snap.chain, snap.spot, t, kit.rate, dividend_yield=0.01)
    assert est.method == "carry" and est.pairs == 0
    assert est.forward == pytest.approx(snap.spot * math.exp((kit.rate - 0.01) * t))


def test_far_strikes_are_not_used():
    kit = ChainKit(width=40)
    t, *_ = kit.arrays(T0)

    def wreck_wings(q, k, call, fair):
        far = np.abs(k - kit.spot) > 20  # deep ITM puts and calls with silly quotes
        q["bid"][far] += 5.0
        q["ask"][far] += 5.0

    snap = kit.snapshot(T0, mutate=wreck_wings)
    assert parity_forward(snap.chain, snap.spot, t, kit.rate).forward == pytest.approx(kit.arrays(T0)[1], abs=0.01)


def test_pairs_the_caller_does_not_trust_never_set_the_forward():
    kit = ChainKit(seed=5)
    t, fwd, k, *_ = kit.arrays(T0)
    near = np.abs(k - kit.spot) <= 1  # the three strikes at the money, both legs: a frozen block

    def stale(q, *_):
        q["bid"][near] += 0.50
        q["ask"][near] += 0.50

    snap = kit.snapshot(T0, mutate=stale)
    est = parity_forward(snap.chain, snap.spot, t, kit.rate, usable=~near)
    assert est.method == "parity" and est.forward == pytest.approx(fwd, abs=0.02)


def test_pairs_that_disagree_with_spot_are_dropped_even_when_they_are_the_majority_near_the_money():
    kit = ChainKit(seed=5)
    t, fwd, *_ = kit.arrays(T0)
    calls = [kit.index("C", s) for s in (599, 600, 601, 602, 603)]

    def drag(q, *_):  # five pairs held 0.5 above where the forward went, as a frozen block would
        for i in calls:
            q["bid"][i] += 0.5
            q["ask"][i] += 0.5

    snap = kit.snapshot(T0, mutate=drag)
    est = parity_forward(snap.chain, snap.spot, t, kit.rate)
    assert est.forward == pytest.approx(fwd, abs=0.02)
    assert est.dropped == 5 and not est.spot_mismatch


def test_a_wrong_spot_is_judged_in_half_spreads_and_the_options_consensus_sets_the_forward():
    kit = ChainKit(seed=5)
    t, fwd, *_ = kit.arrays(T0)
    snap = kit.snapshot(T0)
    off = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__}, "spot": snap.spot + 0.60})
    est = parity_forward(off.chain, off.spot, t, kit.rate)
    assert est.spot_mismatch and est.forward == pytest.approx(fwd, abs=0.02)
    assert est.spot_gap_half_spreads < -10  # 0.60 is far more than the pairs' own uncertainty
    # a few cents of spot noise is within the pairs' half-spreads: no mismatch, same forward
    near = snap.__class__(**{**{f: getattr(snap, f) for f in snap.__slots__}, "spot": snap.spot + 0.03})
    est = parity_forward(near.chain, near.spot, t, kit.rate)
    assert not est.spot_mismatch and est.forward == pytest.approx(fwd, abs=0.02)
