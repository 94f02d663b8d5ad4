import numpy as np
import pytest

from spyglass.analytics.black import greeks
from spyglass.analytics.exposure import gamma_exposure, gex_profile


def book(strikes, is_call, oi, spot=600.0, t=3 / (24 * 365), rate=0.04, vol=0.15):
    n = len(strikes)
    k, c = np.asarray(strikes, float), np.asarray(is_call, bool)
    fwd = spot * np.exp(rate * t)
    v = np.full(n, vol)
    g = greeks(np.full(n, spot), np.full(n, fwd), k, np.full(n, t), np.full(n, rate), v, c).gamma
    return gamma_exposure(spot, fwd, k, c, np.asarray(oi, float), v, g, t, rate, 100.0), (k, c, v, g, fwd, t, rate)


def test_units_are_dollars_per_one_percent_move_calls_positive_puts_negative():
    ex, (k, c, v, g, *_) = book([600.0, 600.0], [True, False], [1000, 400])
    per_contract = g[0] * 100 * 600.0**2 * 0.01
    assert ex.gex_by_strike.tolist() == pytest.approx([per_contract * (1000 - 400)])
    assert ex.total == pytest.approx(per_contract * 600)


def test_zero_gamma_sits_where_the_repriced_book_changes_sign():
    strikes = [590.0, 595.0, 605.0, 610.0]
    ex, (k, c, v, g, fwd, t, rate) = book(strikes, [False, False, True, True], [5000, 5000, 5000, 5000])
    assert len(ex.zero_gamma) == 1
    root = ex.zero_gamma[0]
    assert 595.0 < root < 605.0
    sign_oi = np.where(c, 5000.0, -5000.0)
    around = gex_profile(np.array([root - 0.05, root + 0.05]), fwd / 600.0, k, t, rate, v, sign_oi, 100.0)
    assert around[0] < 0 < around[1]


def test_several_zero_gamma_levels_are_all_reported():
    strikes = [585.0, 595.0, 605.0, 615.0]
    ex, _ = book(strikes, [True, False, True, False], [4000, 4000, 4000, 4000], t=6 / (24 * 365))
    assert len(ex.zero_gamma) >= 2
    assert list(ex.zero_gamma) == sorted(ex.zero_gamma)


def test_calls_only_book_has_positive_gex_and_no_zero_gamma():
    ex, _ = book([598.0, 600.0, 602.0], [True] * 3, [100, 100, 100])
    assert ex.total > 0 and ex.zero_gamma == ()
