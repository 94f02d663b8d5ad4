import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.bot import rules
from edge.bot.rules import Leg, Plan, Quote, Skip
from spyglass.contract import Anomaly
from tests.edge.bot.signals import arbitrage, chain_level, facet, incident, mispricing, parity


def quotes(table):
    return lambda r, k: table.get((r, float(k)))


def test_cheap_mispricing_is_a_debit_vertical_with_the_debit_at_risk():
    s = Anomaly.from_dict(mispricing("cheap", "C", 600.0, ask=1.02, fair=1.20))
    p = rules.plan(s, quotes({("C", 600.0): Quote(1.00, 1.02), ("C", 601.0): Quote(0.60, 0.62)}), 1.0, 3.0)
    assert isinstance(p, Plan) and p.structure == "debit_vertical"
    assert p.legs == (Leg("C", 600.0, 1), Leg("C", 601.0, -1))
    assert p.limit == pytest.approx(0.42)
    assert p.max_loss == pytest.approx(42 + 1.30)
    assert p.edge == pytest.approx((0.18 - 0.01) * 100 - 1.30)


def test_rich_put_mispricing_is_a_credit_vertical_with_the_wing_below():
    s = Anomaly.from_dict(mispricing("rich", "P", 600.0, bid=1.40, fair=1.20))
    p = rules.plan(s, quotes({("P", 599.0): Quote(0.80, 0.82)}), 1.0, 3.0)
    assert p.structure == "credit_vertical" and p.legs == (Leg("P", 600.0, -1), Leg("P", 599.0, 1))
    assert p.limit == pytest.approx(-0.58)
    assert p.max_loss == pytest.approx((1.0 - 0.58) * 100 + 1.30)


def test_mispricing_needs_a_two_sided_wing_and_enough_edge():
    s = Anomaly.from_dict(mispricing("cheap"))
    assert "wing" in rules.plan(s, quotes({}), 1.0, 3.0).reason
    wide_wing = quotes({("C", 601.0): Quote(0.40, 0.80)})  # half-spread 0.20 eats the 0.18 edge
    assert rules.plan(s, wide_wing, 1.0, 3.0).reason.startswith("edge gone")


def test_arbitrage_vertical_receives_at_least_the_credit():
    s = Anomaly.from_dict(arbitrage("vertical", ("C 600", "C 601"), credit=0.10))
    p = rules.plan(s, quotes({}), 1.0, 3.0)
    assert p.legs == (Leg("C", 600.0, 1), Leg("C", 601.0, -1)) and p.limit == -0.10
    assert p.max_loss == pytest.approx(-10 + 1.30)


def test_arbitrage_vertical_bound_and_butterfly():
    b = rules.plan(Anomaly.from_dict(arbitrage("vertical_bound", ("P 601", "P 600"), credit=0.05)), quotes({}), 1, 3)
    assert b.legs == (Leg("P", 601.0, -1), Leg("P", 600.0, 1)) and b.limit == pytest.approx(-1.05)
    assert b.max_loss == pytest.approx(-5 + 1.30)
    f = rules.plan(Anomaly.from_dict(arbitrage("butterfly", ("C 599", "C 600", "C 601"), credit=0.04)),
                   quotes({}), 1, 3)
    assert [g.ratio for g in f.legs] == [1, -2, 1] and f.limit == pytest.approx(-0.08)
    uneven = rules.plan(Anomaly.from_dict(arbitrage("butterfly", ("C 599", "C 600", "C 602"))), quotes({}), 1, 3)
    assert "unequal" in uneven.reason


def test_arbitrage_gone_when_live_quotes_cost_more():
    s = Anomaly.from_dict(arbitrage("vertical", ("C 600", "C 601"), credit=0.10))
    live = quotes({("C", 600.0): Quote(1.00, 1.02), ("C", 601.0): Quote(0.60, 0.62)})  # costs 0.42 now
    assert rules.plan(s, live, 1, 3).reason.startswith("credit gone")


def test_parity_and_other_types_are_skipped_with_a_reason():
    assert "not traded" in rules.plan(Anomaly.from_dict(parity()), quotes({}), 1, 3).reason
    a = Anomaly.from_dict({**mispricing(), "type": "iv_jump"})
    assert isinstance(rules.plan(a, quotes({}), 1, 3), Skip)


def test_unreadable_evidence_is_a_skip_not_a_crash():
    s = Anomaly.from_dict(arbitrage("vertical", ("X 1", "C 2")))
    assert "unreadable" in rules.plan(s, quotes({}), 1, 3).reason
    s = Anomaly.from_dict(mispricing(fair=None))
    assert "lacks" in rules.plan(s, quotes({}), 1, 3).reason


def test_naked_short_is_never_covered():
    assert not rules.covered([Leg("C", 600, -1)])
    assert not rules.covered([Leg("P", 600, -2), Leg("P", 599, 1)])
    assert math.isinf(rules.max_loss([Leg("C", 600, -1)], -1.0))


legs_st = st.lists(st.builds(Leg, st.sampled_from(["C", "P"]), st.integers(590, 610).map(float),
                             st.integers(-2, 2).filter(bool)), min_size=1, max_size=4)


@given(legs_st, st.floats(-3, 3), st.floats(0, 1500))
def test_max_loss_bounds_every_covered_payoff(legs, limit, spot):
    """For covered legs the computed worst case is never beaten, at any spot."""
    if not rules.covered(legs):
        return
    loss = (limit - rules.payoff(legs, spot)) * 100 + rules.fees(legs)
    assert loss <= rules.max_loss(legs, limit) + 1e-6


def test_every_plan_from_the_rules_is_covered():
    q = quotes({("C", 601.0): Quote(0.60, 0.62), ("P", 599.0): Quote(0.6, 0.62)})
    for raw in (mispricing("cheap"), mispricing("rich", bid=1.5), mispricing("cheap", "P", ask=1.0, fair=1.3),
                arbitrage(), arbitrage("vertical_bound"), arbitrage("butterfly", ("C 599", "C 600", "C 601"))):
        p = rules.plan(Anomaly.from_dict(raw), q, 1.0, 3.0)
        assert isinstance(p, Plan), (raw["evidence"], p)
        assert rules.covered(p.legs) and math.isfinite(p.max_loss)


@pytest.mark.parametrize("x,expected", [(0.58, 0.58), (-0.58, -0.58), (0.419999, 0.41), (-0.4201, -0.43),
                                        (1.15 - 0.57, 0.58)])
def test_floor_cent_rounds_towards_the_better_price_without_float_noise(x, expected):
    assert rules.floor_cent(x) == pytest.approx(expected)


def test_an_incident_is_traded_by_its_primary_type_alone():
    table = quotes({("C", 600.0): Quote(1.00, 1.02), ("C", 601.0): Quote(0.60, 0.62)})
    bare = Anomaly.from_dict(mispricing("cheap", "C", 600.0, ask=1.02, fair=1.20))
    rich = Anomaly.from_dict(incident(mispricing("cheap", "C", 600.0, ask=1.02, fair=1.20),
                                      facet("parity", 9.0, direction="put rich", excess=0.1),
                                      facet("arbitrage", 4.0, kind="butterfly", legs=["C 599", "C 600", "C 601"],
                                            credit=0.05),
                                      facet("iv_jump", residual_vol_points=3.0)))
    assert rules.quotes_needed(rich, 1.0) == rules.quotes_needed(bare, 1.0)
    assert rules.plan(rich, table, 1.0, 3.0) == rules.plan(bare, table, 1.0, 3.0)  # one order: the mispricing's
    arb = arbitrage("vertical", ("C 600", "C 601"), credit=0.10)
    with_parity = Anomaly.from_dict(incident(arb, facet("parity", 8.0), facet("iv_jump")))
    assert rules.plan(with_parity, quotes({}), 1, 3) == rules.plan(Anomaly.from_dict(arb), quotes({}), 1, 3)
    parity_first = Anomaly.from_dict(incident(parity(), facet("iv_jump")))
    assert "parity is not traded" in rules.plan(parity_first, quotes({}), 1, 3).reason


@pytest.mark.parametrize(("type_", "rule"), [("iv_jump", "iv_jump.smile_shift"), ("mispricing", "mispricing.chain_event"),
                                             ("arbitrage", "arbitrage.chain_event")])
def test_a_chain_level_finding_is_never_traded(type_, rule):
    """Its evidence even carries legs and a credit here: with no contract of its own it is still skipped."""
    s = Anomaly.from_dict(chain_level(type_, rule))
    assert s.strike is None and rules.quotes_needed(s, 1.0) == []
    every_quote = quotes({(r, float(k)): Quote(1.0, 1.02) for r in "CP" for k in range(590, 610)})
    p = rules.plan(s, every_quote, 1.0, 0.0)
    assert isinstance(p, Skip) and "chain-level" in p.reason and "never traded" in p.reason
