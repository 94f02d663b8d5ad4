import math

import numpy as np
import pytest

from spyglass.analytics.black import black_price, implied_vol
from spyglass.analytics.smile import N_COEF, Z_MIN, fit_smile, spline_vol_grad, spline_vol_scalar
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


def weekend_spx_chain():
    """An SPX-like chain three days from expiry (a weekend in between), quoted two-sided on a 0.05 grid from 6300
    to 7100: its deep put wing reaches z = -11, far beyond the spline's knots (|z| <= 6), with a vol that keeps
    rising there (total variance quadratic in z, so no extrapolation is exact). Modelled on the Tradier chain of
    2026-02-06."""
    forward, t, rate, atm = 6926.0, 3.0 / 365, 0.04, 0.095
    k = np.arange(6300.0, 7101.0, 5.0)
    strike, call = np.r_[k, k], np.r_[np.ones(k.size, bool), np.zeros(k.size, bool)]
    n = strike.size
    z = np.log(strike / forward) / (atm * math.sqrt(t))
    vol = atm * np.sqrt(1 - 0.3 * z + 0.1 * z * z)
    fair = black_price(np.full(n, forward), strike, np.full(n, t), np.full(n, rate), vol, call)
    tick = 0.05
    half = np.maximum(tick, 0.02 * fair)
    bid = np.floor((fair - half) / tick + 1e-9) * tick
    ask = np.ceil((fair + half) / tick - 1e-9) * tick
    return strike, call, np.where(bid > 0, bid, np.nan), ask, z, forward, t, rate, tick


def test_quotes_beyond_the_knots_are_fitted_where_the_smile_prices_them():
    """Fitted as if they sat at the knots' edge, the deep wing's quotes lifted the edge: the smile ran above the
    asks next to it and, extrapolated, far below the bids beyond it. Fitted through the extrapolation that prices
    them, every quote is inside its bid/ask."""
    strike, call, bid, ask, z, forward, t, rate, tick = weekend_spx_chain()
    n = strike.size
    iv = implied_vol(0.5 * (bid + ask), np.full(n, forward), strike, np.full(n, t), np.full(n, rate), call)
    fit = fit_smile(strike, call, bid, ask, iv, forward, t, rate, tick=tick, near_close=False, min_price=0.05)
    otm = np.where(call, strike >= forward, strike <= forward) & np.isfinite(bid)
    assert fit.method == "spline" and fit.arbitrage_free
    assert fit.z_lo < Z_MIN and (otm & (z < Z_MIN)).sum() >= 50  # the case in question: many quotes off the knots
    model = black_price(np.full(n, forward), strike, np.full(n, t), np.full(n, rate), fit.vol(strike), call)
    outside = otm & ((model < bid) | (model > ask))
    assert not outside.any(), [f"{strike[i]:.0f}: bid {bid[i]:.2f} fit {model[i]:.3f} ask {ask[i]:.2f}"
                               for i in np.flatnonzero(outside)]


@pytest.mark.parametrize("z, lo, hi", [
    (-1.3, -4.2, 3.1), (0.0, -4.2, 3.1), (2.9, -4.2, 3.1),  # the spline
    (-9.0, -4.2, 3.1), (4.0, -4.2, 3.1), (20.0, -4.2, 3.1),  # beyond the quoted range
    (-8.0, -11.0, 3.1), (-5.5, -11.0, 3.1),  # quoted beyond the knots: extrapolated from their edge, spline inside
    (-15.0, -4.2, 3.1), (40.0, -4.2, 3.1),  # at the cap (twice the edge vol) and at the floor
])
def test_the_fit_steps_along_the_smiles_true_gradient(z, lo, hi):
    """The fit's Gauss-Newton steps use ``spline_vol_grad``: wherever a quote sits, it is the derivative of the
    vol the smile reports there."""
    rng = np.random.default_rng(5)
    coef = 0.12 + 0.03 * rng.random(N_COEF) + 0.004 * (np.arange(N_COEF) - 9.0) ** 2
    grad = np.empty(4)
    i, vol = spline_vol_grad(z, coef, lo, hi, grad)
    assert vol == spline_vol_scalar(z, coef, lo, hi)
    h = 1e-6
    for p in range(4):
        up, down = coef.copy(), coef.copy()
        up[i + p] += h
        down[i + p] -= h
        numeric = (spline_vol_scalar(z, up, lo, hi) - spline_vol_scalar(z, down, lo, hi)) / (2 * h)
        assert grad[p] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
