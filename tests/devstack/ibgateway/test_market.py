"""The fake gateway's market: model greeks as TWS sends them (flat vol, no carry), from the core's Black-76."""

from __future__ import annotations

import math
from datetime import date

import pytest
from scipy.stats import norm

from devstack.ibgateway import SimMarket
from spyglass.clock import SECONDS_PER_YEAR


def closed_form(spot: float, strike: float, t: float, vol: float, call: bool) -> tuple[float, float, float, float]:
    """Black-Scholes without rates or dividends: delta, gamma, vega per vol point, theta per calendar day."""
    sq = vol * math.sqrt(t)
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * t) / sq
    pdf = norm.pdf(d1)
    delta = norm.cdf(d1) - (0.0 if call else 1.0)
    return delta, pdf / (spot * sq), spot * pdf * math.sqrt(t) / 100.0, -spot * pdf * vol / (2 * math.sqrt(t)) / 365.0


@pytest.mark.parametrize(("day", "start"), [(date(2026, 11, 24), "11:00"), (date(2026, 11, 27), "12:55")])
def test_model_greeks_match_the_closed_form(day, start):
    m = SimMarket(day, start, interval_s=1.0)
    for _ in range(3):
        m.step()
    t = max((m.close - m.ts).total_seconds() / SECONDS_PER_YEAR, 1e-7)
    checked = 0
    for con_id, q in m.quotes.items():
        o = m.listing[con_id]
        want = closed_form(m.spot, o.strike, t, m.atm_vol, o.right == "C")
        assert (q.delta, q.gamma, q.vega, q.theta) == pytest.approx(want, abs=2e-6), (o, q)
        checked += 1
    assert checked == len(m.listing) > 20
