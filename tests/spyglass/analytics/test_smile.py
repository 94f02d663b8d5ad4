import math

import numpy as np
import pytest

from spyglass.analytics.black import black_price, implied_vol
from spyglass.analytics.smile import fit_smile
from tests.spyglass.chainkit import CLOSE, ChainKit, true_vol

HOURS = [6.0, 2.0, 0.5, 0.25]


def fitted(kit, hours, mutate=None, near_close=False):
    from datetime import timedelta

    ts = CLOSE - timedelta(hours=hours)
    snap = kit.snapshot(ts, mutate=mutate)
    t, fwd, k, call, vol, fair = kit.arrays(ts)
    ch = snap.chain
    n = len(ch)
    mid = 0.5 * (ch.bid + ch.ask)
    iv = implied_vol(mid, np.full(n, fwd), ch.strike, np.full(n, t), np.full(n, kit.rate), ch.is_call)
    fit = fit_smile(ch.strike, ch.is_call, ch.bid, ch.ask, iv, fwd, t, kit.rate, tick=0.01,
                    near_close=near_close, min_price=0.05)
    return fit, ch, t, fwd


@pytest.mark.parametrize("hours", HOURS)
def test_fit_prices_every_quoted_contract_within_its_half_spread(hours):
    kit = ChainKit(seed=2)
    fit, ch, t, fwd = fitted(kit, hours)
    # half an hour out only a few strikes carry premium: a line is the honest fit there
    assert fit.method in (("spline",) if hours >= 1 else ("spline", "line")) and fit.arbitrage_free
    n = len(ch)
    model = black_price(np.full(n, fwd), ch.strike, np.full(n, t), np.full(n, kit.rate), fit.vol(ch.strike), ch.is_call)
    z = np.log(ch.strike / fwd) / (kit.atm * math.sqrt(t))
    truth = black_price(np.full(n, fwd), ch.strike, np.full(n, t), np.full(n, kit.rate), true_vol(z), ch.is_call)
    quoted = np.isfinite(ch.bid)
    half = 0.5 * (ch.ask - ch.bid)
    assert np.all(np.abs(model - truth)[quoted] <= 0.6 * half[quoted])


@pytest.mark.parametrize("shift", [0.25, -0.20])
def test_an_outlier_does_not_bend_the_fit(shift):
    kit = ChainKit(seed=2)
    i = kit.index("C", 601)

    def outlier(q, *_):
        q["bid"][i] += shift
        q["ask"][i] += shift

    fit, ch, t, fwd = fitted(kit, 2.0, outlier)
    n = len(ch)
    model = black_price(np.full(n, fwd), ch.strike, np.full(n, t), np.full(n, kit.rate), fit.vol(ch.strike), ch.is_call)
    z = np.log(ch.strike / fwd) / (kit.atm * math.sqrt(t))
    truth = black_price(np.full(n, fwd), ch.strike, np.full(n, t), np.full(n, kit.rate), true_vol(z), ch.is_call)
    neighbours = np.isin(ch.strike, [598.0, 599.0, 600.0, 602.0, 603.0]) & np.isfinite(ch.bid)
    half = 0.5 * (ch.ask - ch.bid)
    assert np.all(np.abs(model - truth)[neighbours] <= 0.6 * half[neighbours])
    # and the outlier itself stands far outside its quote
    assert abs(0.5 * (ch.bid[i] + ch.ask[i]) - model[i]) > 5 * half[i]


def test_few_quotes_fall_back_to_a_line():
    kit = ChainKit(seed=2)

    def sparse(q, k, call, fair):
        keep = k == kit.spot
        q["bid"][~keep] = np.nan

    fit, *_ = fitted(kit, 2.0, sparse)
    assert fit.method in ("line", "flat") and fit.ok


def test_no_quotes_no_fit():
    kit = ChainKit()

    def empty(q, *_):
        q["bid"][:] = np.nan

    fit, *_ = fitted(kit, 2.0, empty)
    assert not fit.ok and fit.method == "none"


def test_near_the_close_the_fit_is_in_price_space_and_smooth_beyond_quotes():
    kit = ChainKit(seed=4)
    fit, ch, t, fwd = fitted(kit, 0.25, near_close=True)
    assert fit.space == "price"
    sd = fit.atm_vol * math.sqrt(t)
    for edge, outward in ((fit.z_lo, -1.0), (fit.z_hi, 1.0)):
        z = edge + outward * np.array([-1e-6, 0.0, 1e-6, 2.0, 50.0])
        v = fit.vol(fwd * np.exp(z * sd))
        assert v[1] == pytest.approx(v[0], abs=1e-6) and v[2] == pytest.approx(v[1], abs=1e-6)  # continuous
        assert np.all(v > 0) and v[4] <= 2 * v[1] + 1e-12  # total variance grows at most to the cap


def test_fits_on_a_realistic_stream_are_arbitrage_free():
    kit = ChainKit(seed=6)
    fits = [fitted(kit, h)[0] for h in (6.0, 4.0, 2.0, 1.0, 0.5)]
    assert all(f.arbitrage_free for f in fits)
