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
