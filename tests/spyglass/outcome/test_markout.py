"""Markouts computed by hand for each trade shape, a missing horizon and the settlement at the close."""

from __future__ import annotations

import numpy as np
import pytest

from spyglass.contract import Chain
from spyglass.outcome import Leg, advance, settle
from spyglass.outcome.markout import Quote, at_settlement, to_quotes
from spyglass.outcome.tracker import Lines, Tracked

FEE, MULT = 0.65, 100.0


def test_a_sold_rich_call_marked_to_mid_and_bought_back_at_the_ask():
    legs = (Leg("C", 600.0, -1.0, 2.00),)
    # mid 1.82: 0.18 x 100 less the entry fee; bought back at 1.84: 0.16 x 100 less two fees
    assert to_quotes(legs, [Quote(1.80, 1.84)], 600.0, MULT, FEE) == pytest.approx((17.35, 14.70))


def test_a_bought_cheap_put_marked_to_mid_and_sold_at_the_bid():
    legs = (Leg("P", 600.0, 1.0, 1.00),)
    assert to_quotes(legs, [Quote(1.10, 1.14)], 600.0, MULT, FEE) == pytest.approx((11.35, 8.70))


def test_a_parity_trade_with_its_underlying_hedge():
    # call rich: sell the call at 3.10, buy the put at 2.90, buy the shares at 600; spot then 601
    legs = (Leg("C", 600.0, -1.0, 3.10), Leg("P", 600.0, 1.0, 2.90), Leg("U", None, 1.0, 600.0))
    quotes = [Quote(3.60, 3.64), Quote(2.50, 2.54), Quote(601.0, 601.0)]
    # mid: -(3.62-3.10) + (2.52-2.90) + 1.00 = 0.10; exit: -(3.64-3.10) + (2.50-2.90) + 1.00 = 0.06; 2 option fees
    assert to_quotes(legs, quotes, 601.0, MULT, FEE) == pytest.approx((10 - 1.30, 6 - 2.60))


def test_a_vertical_bought_for_a_credit():
    legs = (Leg("C", 600.0, 1.0, 2.00), Leg("C", 601.0, -1.0, 2.05))
    quotes = [Quote(1.50, 1.52), Quote(1.00, 1.02)]
    # mid: (1.51-2.00) - (1.01-2.05) = 0.55; exit: (1.50-2.00) - (1.02-2.05) = 0.53
    assert to_quotes(legs, quotes, 600.0, MULT, FEE) == pytest.approx((55 - 1.30, 53 - 2.60))


def test_a_butterfly_held_to_the_settlement():
    legs = (Leg("C", 599.0, 0.5, 2.00), Leg("C", 600.0, -1.0, 1.60), Leg("C", 601.0, 0.5, 1.10))
    # at 600: the 599 call is worth 1, the others nothing: 0.5(1-2.00) + (1.60-0) + 0.5(0-1.10) = 0.55;
    # fees on 0.5 + 1 + 0.5 = 2 contracts
    assert at_settlement(legs, 600.0, MULT, FEE) == pytest.approx(55 - 1.30)


def test_a_put_and_a_parity_trade_settle_at_the_final_spot():
    assert at_settlement((Leg("P", 600.0, 1.0, 1.00),), 598.5, MULT, FEE) == pytest.approx(50 - 0.65)
    parity = (Leg("C", 600.0, -1.0, 3.10), Leg("P", 600.0, 1.0, 2.90), Leg("U", None, 1.0, 600.0))
    # at 595: the call expires worthless (+3.10), the put is worth 5 (+2.10), the shares lost 5: +0.20
    assert at_settlement(parity, 595.0, MULT, FEE) == pytest.approx(20 - 1.30)


def _lines(bids, asks, fair=None, usable=None):
    strikes = np.array([600.0, 600.0])
    chain = Chain(is_call=np.array([True, False]), strike=strikes, bid=np.array(bids, float),
                  ask=np.array(asks, float), last=np.full(2, np.nan), volume=np.zeros(2), open_interest=np.zeros(2), bid_size=np.zeros(2), ask_size=np.zeros(2),
                  quote_age_ms=np.full(2, np.nan))
    fair = np.array(fair if fair is not None else [np.nan, np.nan], float)
    return Lines(chain, np.array(usable if usable is not None else [True, True]), fair)


def rich_call(ts: float = 0.0) -> Tracked:
    return Tracked("a1", "SPY", "2026-11-24T17:00:00.000Z", "mispricing", "high", ts, (Leg("C", 600.0, -1.0, 2.00),), ("C", 600.0, -1.0))


def test_each_horizon_is_read_once_from_the_first_snapshot_at_or_after_it():
    t = [rich_call()]
    out, t = advance(t, 3.0, "t3", _lines([1.89, 1.50], [1.93, 1.54], fair=[1.90, 1.52]), 600.0, MULT, FEE)
    assert out == []  # no horizon yet, but the bid came back to fair at 3 s
    out, t = advance(t, 5.5, "t5", _lines([1.80, 1.50], [1.84, 1.54]), 600.0, MULT, FEE)
    assert [(m.horizon, m.status, m.mid, m.exit, m.reverted_s) for m in out] == [("5s", "ok", 17.35, 14.7, 3.0)]
    out, t = advance(t, 6.5, "t6", _lines([1.00, 1.50], [1.04, 1.54]), 600.0, MULT, FEE)
    assert out == [] and t[0].done == ("5s",)


def test_a_horizon_after_a_gap_is_missing_not_interpolated():
    out, t = advance([rich_call()], 12.0, "t12", _lines([1.80, 1.50], [1.84, 1.54]), 600.0, MULT, FEE)
    assert [(m.horizon, m.status) for m in out] == [("5s", "missing")]
    assert "within 2 s" in out[0].reason and out[0].mid is None


def test_a_horizon_whose_leg_has_no_usable_quote_is_missing_and_names_it():
    out, _ = advance([rich_call()], 5.0, "t5", _lines([1.80, 1.50], [1.84, 1.54], usable=[False, True]), 600.0,
                     MULT, FEE)
    assert [(m.horizon, m.status, m.reason) for m in out] == [("5s", "missing", "no usable two-sided quote for C 600")]


def test_the_close_settles_and_names_the_horizons_never_reached():
    out = settle([rich_call()], 601.0, "close", MULT, FEE)
    assert [(m.horizon, m.status) for m in out] == [("5s", "missing"), ("30s", "missing"), ("2m", "missing"),
                                                    ("5m", "missing"), ("settle", "ok")]
    assert out[-1].mid == pytest.approx(100 * (2.00 - 1.00) - 0.65)  # sold at 2.00, worth 1.00 at 601


def test_a_tracked_alert_survives_its_json():
    t = rich_call(1.5)
    assert Tracked.from_dict(t.to_dict()) == t
