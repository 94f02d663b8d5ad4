"""Black-76 implied vol and greeks against 40-digit mpmath references and QuantLib.

"Recoverable" (used throughout): the price is a normal double and 4 ulps of the price move the vol
by less than 1e-10, i.e. ``4 * ulp(price) / vega < 1e-10`` with vega = dPrice/dvol. Where that
fails the double-precision price itself does not pin the vol down to 1e-10 (deep ITM options,
whose time value drowns in the intrinsic value, and very deep OTM ones), so no solver can be
asked for 1e-10 there; we still require the error to stay within that information limit.

Reference prices are computed with mpmath at 40 digits from a known vol and rounded once to
double, so the vol that generated a price is its exact implied vol up to that rounding.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import QuantLib as ql
from numba import njit

from spyglass.analytics.black import (
    Greeks,
    black_gamma_scalar,
    black_greeks_scalar,
    black_price,
    black_price_scalar,
    forward_delta,
    forward_delta_scalar,
    greeks,
    greeks_kernel,
    implied_vol,
    implied_vol_scalar,
    norm_cdf,
)
from spyglass.clock import SECONDS_PER_YEAR

MINUTE = 60.0 / SECONDS_PER_YEAR
FWD = 600.0
RATE = 0.045
SPOT = FWD * math.exp(-(RATE - 0.013) * 390 * MINUTE)  # any spot; F/S is the carry
TIMES_MIN = (1.0, 5.0, 30.0, 120.0, 390.0)
VOLS = (0.05, 0.2, 0.8, 3.0)
ZS = tuple(float(z) for z in np.linspace(-8.0, 8.0, 17))  # ln(K/F) in standard deviations
SPY_STRIKES = tuple(float(k) for k in range(540, 661, 10))
TOL = 1e-10
RECOVERABLE_ULPS = 4.0

mp.mp.dps = 40


def mp_price(fwd, strike, t, rate, vol, is_call):
    f, k, tt = mp.mpf(fwd), mp.mpf(strike), mp.mpf(t)
    sd = mp.mpf(vol) * mp.sqrt(tt)
    df = mp.exp(-mp.mpf(rate) * tt)
    d1 = mp.log(f / k) / sd + sd / 2
    d2 = d1 - sd
    if is_call:
        return df * (f * mp.ncdf(d1) - k * mp.ncdf(d2))
    return df * (k * mp.ncdf(-d2) - f * mp.ncdf(-d1))


def vega_double(fwd, strike, t, rate, vol):
    sd = vol * np.sqrt(t)
    d1 = np.log(fwd / strike) / sd + 0.5 * sd
    return np.exp(-rate * t) * fwd * np.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi) * np.sqrt(t)


@pytest.fixture(scope="module")
def grid():
    """T from 1 minute to 6.5 hours, deep OTM to deep ITM (+-8 sd and SPY strikes 540..660), calls
    and puts, vols 5% to 300%; prices from mpmath."""
    rows = []
    for tm in TIMES_MIN:
        t = tm * MINUTE
        for vol in VOLS:
            sd = vol * math.sqrt(t)
            strikes = [FWD * math.exp(z * sd) for z in ZS] + list(SPY_STRIKES)
            for k in strikes:
                for is_call in (True, False):
                    rows.append((t, vol, k, is_call, float(mp_price(FWD, k, t, RATE, vol, is_call))))
    t, vol, k, c, p = (np.array(col) for col in zip(*rows))
    n = t.size
    g = dict(t=t, vol=vol, strike=k, is_call=c.astype(bool), price=p, fwd=np.full(n, FWD), rate=np.full(n, RATE))
    with np.errstate(all="ignore"):
        g["info_limit"] = RECOVERABLE_ULPS * np.spacing(p) / vega_double(FWD, k, t, RATE, vol)
    g["recoverable"] = (p >= 1e-290) & (g["info_limit"] < TOL)
    g["h"] = np.log(FWD / k) / (vol * np.sqrt(t))
    return g


def ours(g, price=None):
    return implied_vol(g["price"] if price is None else price, g["fwd"], g["strike"], g["t"], g["rate"], g["is_call"])


# ---------------------------------------------------------------------------------------------
# Implied vol accuracy
# ---------------------------------------------------------------------------------------------


def test_grid_covers_the_hard_cases(grid):
    rec = grid["recoverable"]
    one_min = np.isclose(grid["t"], MINUTE)
    assert rec.sum() > 0.6 * rec.size
    # recoverable one-minute options both deep OTM and (moderately) ITM, calls and puts
    otm = np.where(grid["is_call"], grid["h"] < 0, grid["h"] > 0)
    assert (rec & one_min & otm & (np.abs(grid["h"]) >= 6)).sum() >= 10
    assert (rec & one_min & ~otm & (np.abs(grid["h"]) >= 2)).sum() >= 10
    assert (rec & grid["is_call"]).sum() > 100 and (rec & ~grid["is_call"]).sum() > 100


def test_iv_matches_mpmath_where_recoverable(grid):
    iv = ours(grid)
    rec = grid["recoverable"]
    err = np.abs(iv - grid["vol"])
    assert not np.isnan(iv[rec]).any()
    worst = int(np.argmax(np.where(rec, err, 0.0)))
    assert err[rec].max() <= TOL, (
        f"max |iv - vol| = {err[rec].max():.3g} at t={grid['t'][worst] / MINUTE:.0f} min, "
        f"K={grid['strike'][worst]:.4f}, vol={grid['vol'][worst]}, call={grid['is_call'][worst]}"
    )
    # the tolerance is tight enough to notice a 1e-9 relative bias in the solver
    assert (np.abs(iv * (1.0 + 1e-9) - grid["vol"])[rec] > TOL).sum() > 0.3 * rec.sum()


def test_iv_one_minute_deep_otm_explicit():
    t = MINUTE
    for strike, is_call, vol in ((606.0, True, 0.25), (612.0, True, 0.9), (594.0, False, 0.3), (570.0, False, 4.0)):
        p = float(mp_price(FWD, strike, t, RATE, vol, is_call))
        assert 1e-300 < p < 1e-3  # deep OTM: a tiny but normal price
        iv = implied_vol_scalar(p, FWD, strike, t, RATE, is_call)
        assert abs(iv - vol) <= TOL, (strike, is_call, vol, iv)


def test_iv_within_information_limit_everywhere(grid):
    """Where the vol is not recoverable to 1e-10, the error still stays within what the double
    price allows (4 ulps of price, mapped through vega), plus 1e-12."""
    iv = ours(grid)
    normal = grid["price"] >= 1e-290
    ok = normal & np.isfinite(iv)
    err = np.abs(iv - grid["vol"])
    assert (err[ok] <= grid["info_limit"][ok] + 1e-12).all()
    # NaN only where the price cannot pin the vol down
    assert not (normal & ~np.isfinite(iv) & grid["recoverable"]).any()


def test_iv_matches_quantlib(grid):
    """Cross-check against QuantLib's solver with a tight accuracy on sigma*sqrt(T) (its default
    1e-6 is on the std dev, i.e. 1e-3 vol at 0DTE). QuantLib's own price formula loses digits in
    the wings, so the comparison is restricted to |ln(F/K)| <= 2 sd, where it is accurate."""
    iv = ours(grid)
    m = grid["recoverable"] & (np.abs(grid["h"]) <= 2.0)
    assert m.sum() > 100
    for i in np.flatnonzero(m):
        t = grid["t"][i]
        typ = ql.Option.Call if grid["is_call"][i] else ql.Option.Put
        sd = ql.blackFormulaImpliedStdDev(
            typ, grid["strike"][i], FWD, grid["price"][i], math.exp(-RATE * t), 0.0, ql.nullDouble(), 1e-14 * math.sqrt(t), 1000
        )
        assert abs(iv[i] - sd / math.sqrt(t)) <= TOL, (t / MINUTE, grid["strike"][i], grid["vol"][i])


def test_normalised_solver_converges_to_1e14():
    """In normalised coordinates the solver lands within 1e-14 relative of the exact s (s = 0.01
    to 5, |x/s| <= 10), up to the rounding noise of the price evaluation itself: near the money
    the two terms of b are ~1/s times larger than b, which leaves ~ulp (1+|h|)/(s (1+h^2)) of s."""
    from spyglass.analytics.black import _solve_normalised_counted

    worst = 0.0
    for s in np.geomspace(0.01, 5.0, 25):
        for h in (-10.0, -6.0, -3.0, -1.5, -0.7, -0.2, -0.01, 0.0):
            x = h * s
            bx = mp.mpf(x)
            ms = mp.mpf(float(s))
            be = mp.exp(bx / 2) * mp.ncdf(bx / ms + ms / 2) - mp.exp(-bx / 2) * mp.ncdf(bx / ms - ms / 2)
            beta = float(be)
            # exact s for the rounded beta (first order), and the information limit in s
            bprime = float(mp.exp(-(bx / ms) ** 2 / 2 - ms**2 / 8) / mp.sqrt(2 * mp.pi))
            s_ref = float(s) + float(mp.mpf(beta) - be) / bprime
            if 4 * np.spacing(beta) / bprime > 1e-15 * s:  # price does not pin s to 1e-15
                continue
            got, evals = _solve_normalised_counted(beta, x)
            assert evals <= 4
            noise = 3 * 2.2e-16 * (1 + abs(h)) / (s * (1 + h * h))
            worst = max(worst, abs(got - s_ref) / s / (1e-14 + noise))
    assert worst <= 1.0


def test_random_batch_against_mpmath():
    rng = np.random.default_rng(20240607)
    n = 400
    t = np.exp(rng.uniform(np.log(MINUTE), np.log(390 * MINUTE), n))
    vol = np.exp(rng.uniform(np.log(0.03), np.log(5.0), n))
    k = FWD * np.exp(rng.normal(0.0, 3.0, n) * vol * np.sqrt(t))
    c = rng.random(n) < 0.5
    p = np.array([float(mp_price(FWD, k[i], t[i], RATE, vol[i], c[i])) for i in range(n)])
    iv = implied_vol(p, np.full(n, FWD), k, t, np.full(n, RATE), c)
    with np.errstate(all="ignore"):
        limit = RECOVERABLE_ULPS * np.spacing(p) / vega_double(FWD, k, t, RATE, vol)
    rec = (p >= 1e-290) & (limit < TOL)
    assert rec.sum() > n // 2
    assert np.abs(iv - vol)[rec].max() <= TOL


# ---------------------------------------------------------------------------------------------
# Round trips, degenerate inputs, API
# ---------------------------------------------------------------------------------------------


def test_round_trip_price_iv_price(grid):
    """price -> vol -> price. Measured in vol terms (price error / vega), since the relative price
    error of far-OTM prices at tiny sigma*sqrt(t) is bounded by the rounding noise of the price
    formula (~1e-11 relative for nano-dollar prices), not by the solver."""
    p = grid["price"]
    iv = ours(grid)
    rec = grid["recoverable"]
    p2 = black_price(grid["fwd"], grid["strike"], grid["t"], grid["rate"], iv, grid["is_call"])
    vega = vega_double(FWD, grid["strike"], grid["t"], RATE, iv)
    err = np.abs(p2 - p)[rec]
    assert (err / vega[rec] <= 1e-12).all()
    assert (err <= price_rel_error_bound(grid)[rec] * p[rec]).all()


def test_round_trip_vol_price_vol():
    rng = np.random.default_rng(7)
    n = 2000
    t = np.exp(rng.uniform(np.log(MINUTE), np.log(390 * MINUTE), n))
    vol = np.exp(rng.uniform(np.log(0.05), np.log(3.0), n))
    k = FWD * np.exp(rng.normal(0.0, 2.0, n) * vol * np.sqrt(t))
    c = rng.random(n) < 0.5
    f, r = np.full(n, FWD), np.full(n, RATE)
    p = black_price(f, k, t, r, vol, c)
    iv = implied_vol(p, f, k, t, r, c)
    with np.errstate(all="ignore"):
        limit = RECOVERABLE_ULPS * np.spacing(p) / vega_double(FWD, k, t, RATE, vol)
    # black_price itself carries a few ulps of rounding; allow 4 more ulps of price
    ok = (p >= 1e-290) & (limit < 1e-12)
    assert ok.sum() > n // 2
    assert np.abs(iv - vol)[ok].max() <= 1e-10


def price_rel_error_bound(g):
    """Rounding model of the price formula: the two terms of the OTM price are ~(1+|h|)/s times
    larger than their difference (h = ln(F/K)/s, s = vol sqrt(t)), so a few ulps of each term
    become 8 (1 + |h|)/s ulps of the price, plus 4 ulps; at most 1e-9."""
    s = g["vol"] * np.sqrt(g["t"])
    return np.minimum(8.0 * 2.2e-16 * (1.0 + np.abs(g["h"])) / s + 4 * 2.2e-16, 1e-9)


def test_black_price_matches_mpmath(grid):
    """Relative error within the rounding model above; in vol terms (price error / vega) below
    1e-12. The relative error only grows for far-OTM prices at tiny sigma*sqrt(t), where the two
    terms of the formula cancel (prices of fractions of a nano-dollar at one minute)."""
    p = black_price(grid["fwd"], grid["strike"], grid["t"], grid["rate"], grid["vol"], grid["is_call"])
    ref = grid["price"]
    m = ref >= 1e-290
    err = np.abs(p - ref)[m]
    with np.errstate(all="ignore"):
        vega = vega_double(FWD, grid["strike"], grid["t"], RATE, grid["vol"])[m]
    assert ((err <= 4 * np.spacing(ref[m])) | (err <= 1e-12 * vega)).all()
    assert (err <= price_rel_error_bound(grid)[m] * ref[m]).all()


T1 = MINUTE
DF1 = math.exp(-RATE * T1)


@pytest.mark.parametrize(
    "price, forward, strike, t, rate, is_call",
    [
        (0.0, 600.0, 601.0, T1, RATE, True),  # zero price
        (-0.01, 600.0, 601.0, T1, RATE, True),  # negative price
        (DF1 * 10.0, 600.0, 590.0, T1, RATE, True),  # exactly the discounted intrinsic
        (DF1 * 10.0 * (1 - 1e-12), 600.0, 590.0, T1, RATE, True),  # below intrinsic
        (DF1 * 9.0, 600.0, 609.0, T1, RATE, False),  # put at intrinsic
        (DF1 * 600.0, 600.0, 601.0, T1, RATE, True),  # call at the upper bound DF*F
        (DF1 * 700.0, 600.0, 601.0, T1, RATE, True),  # call above the bound
        (DF1 * 601.0, 600.0, 601.0, T1, RATE, False),  # put at the upper bound DF*K
        (0.5, 600.0, 601.0, 0.0, RATE, True),  # t = 0
        (0.5, 600.0, 601.0, -T1, RATE, True),  # t < 0
        (math.nan, 600.0, 601.0, T1, RATE, True),
        (0.5, math.nan, 601.0, T1, RATE, True),
        (0.5, 600.0, math.nan, T1, RATE, True),
        (0.5, 600.0, 601.0, math.nan, RATE, True),
        (0.5, 600.0, 601.0, T1, math.nan, True),
        (math.inf, 600.0, 601.0, T1, RATE, True),
        (0.5, math.inf, 601.0, T1, RATE, True),
        (0.5, 600.0, 601.0, math.inf, RATE, True),
        (0.5, 0.0, 601.0, T1, RATE, True),  # forward <= 0
        (0.5, 600.0, 0.0, T1, RATE, False),  # strike <= 0
        (1e-320, 600.0, 601.0, T1, RATE, True),  # OTM price underflows (subnormal)
        (DF1 * 10.0 + 1e-320, 600.0, 590.0, T1, RATE, True),  # ITM, time value lost in rounding
    ],
)
def test_degenerate_inputs_give_nan(price, forward, strike, t, rate, is_call):
    assert math.isnan(implied_vol_scalar(price, forward, strike, t, rate, is_call))
    arr = implied_vol(
        np.array([price, 0.5]), np.array([forward, 600.0]), np.array([strike, 601.0]),
        np.array([t, T1]), np.array([rate, RATE]), np.array([is_call, True]),
    )
    assert math.isnan(arr[0]) and np.isfinite(arr[1]) and arr[1] > 0


def test_tiny_but_normal_prices_are_solved():
    # a price just above the underflow threshold still gives its vol (~38 sd OTM)
    t, vol = 5 * MINUTE, 0.2
    strike = FWD * math.exp(37.0 * vol * math.sqrt(t))
    p = float(mp_price(FWD, strike, t, RATE, vol, True))
    assert 1e-304 < p < 1e-280  # normalised price p/(DF sqrt(FK)) still a normal double
    assert abs(implied_vol_scalar(p, FWD, strike, t, RATE, True) - vol) <= TOL


def test_iteration_recovers_from_underflowing_and_far_starts():
    from spyglass.analytics.black import _iterate

    t, vol = 5 * MINUTE, 0.2
    s = vol * math.sqrt(t)
    for z, start in ((36.0, 0.5), (36.0, 3.0), (3.0, 0.05), (3.0, 20.0), (0.0, 1e-3), (0.0, 1e3)):
        strike = FWD * math.exp(z * s)
        x = -abs(math.log(FWD / strike))
        beta = float(mp_price(FWD, strike, t, 0.0, vol, True) / mp.sqrt(mp.mpf(FWD) * strike))
        got, evals = _iterate(beta, x, start * s, math.exp(x / 2), math.exp(-x / 2))
        assert abs(got / s - 1.0) <= 1e-12, (z, start, got, s)
        assert evals < 32


def test_vectorised_equals_scalar_and_is_callable_from_njit():
    rng = np.random.default_rng(3)
    n = 5000
    t = np.exp(rng.uniform(np.log(0.2 * MINUTE), np.log(2.0), n))
    vol = np.exp(rng.uniform(np.log(0.01), np.log(8.0), n))
    k = FWD * np.exp(rng.normal(0.0, 4.0, n) * vol * np.sqrt(t))
    c = rng.random(n) < 0.5
    f, r = np.full(n, FWD), np.full(n, RATE)
    p = black_price(f, k, t, r, vol, c)
    p[::97] = 0.0
    p[::89] = np.nan

    @njit
    def loop(p, f, k, t, r, c):
        out = np.empty(p.shape[0])
        for i in range(p.shape[0]):
            out[i] = implied_vol_scalar(p[i], f[i], k[i], t[i], r[i], c[i])
        return out

    np.testing.assert_array_equal(implied_vol(p, f, k, t, r, c), loop(p, f, k, t, r, c))


def test_norm_cdf():
    # relative error ~ x^2 ulps in the far tail (rounding of x/sqrt(2) inside erfc)
    for x in (-30.0, -5.0, -1.0, 0.0, 0.3, 4.0):
        ref = float(mp.ncdf(x))
        assert abs(norm_cdf(x) - ref) <= (4.0 + 2.0 * x * x) * 2.2e-16 * ref


# ---------------------------------------------------------------------------------------------
# Greeks
# ---------------------------------------------------------------------------------------------


def greek_grid():
    rows = []
    for tm in TIMES_MIN:
        t = tm * MINUTE
        for vol in (0.08, 0.25, 1.5):
            sd = vol * math.sqrt(t)
            for z in (-5.0, -2.0, -0.5, 0.0, 0.7, 2.0, 5.0):
                for c in (True, False):
                    rows.append((t, vol, FWD * math.exp(z * sd), c))
    t, vol, k, c = (np.array(col) for col in zip(*rows))
    return t, vol, k, c.astype(bool)


def test_greeks_match_quantlib():
    t, vol, k, c = greek_grid()
    n = t.size
    g = greeks(np.full(n, SPOT), np.full(n, FWD), k, t, np.full(n, RATE), vol, c)
    assert isinstance(g, Greeks)
    for i in range(n):
        typ = ql.Option.Call if c[i] else ql.Option.Put
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(typ, k[i]), FWD, vol[i] * math.sqrt(t[i]), math.exp(-RATE * t[i]))
        ref = dict(
            delta=bc.delta(SPOT), gamma=bc.gamma(SPOT), vega=bc.vega(t[i]), theta=bc.theta(SPOT, t[i])
        )
        scale = dict(delta=1.0, gamma=abs(ref["gamma"]), vega=abs(ref["vega"]), theta=abs(ref["theta"]))
        for name, val in ref.items():
            ours_v = getattr(g, name)[i]
            assert abs(ours_v - val) <= 1e-9 * scale[name] + 1e-12 * abs(val) + 1e-300, (name, t[i] / MINUTE, k[i], c[i], ours_v, val)
        assert g.theta_day[i] == pytest.approx(g.theta[i] / 365.0, rel=1e-15)


def test_forward_delta_matches_quantlib():
    """The undiscounted forward delta the simulator picks lines by: QuantLib's deltaForward over the discount."""
    t, vol, k, c = greek_grid()
    n = t.size
    ours = forward_delta(np.full(n, FWD), k, t, vol, c)
    for i in range(n):
        typ = ql.Option.Call if c[i] else ql.Option.Put
        df = math.exp(-RATE * t[i])
        bc = ql.BlackCalculator(ql.PlainVanillaPayoff(typ, k[i]), FWD, vol[i] * math.sqrt(t[i]), df)
        assert ours[i] == pytest.approx(bc.deltaForward() / df, abs=1e-12), (t[i] / MINUTE, k[i], c[i])
        assert ours[i] == forward_delta_scalar(FWD, k[i], t[i], vol[i], c[i])
    assert math.isnan(forward_delta_scalar(FWD, FWD, 0.0, 0.2, True))
    assert math.isnan(forward_delta_scalar(FWD, FWD, MINUTE, 0.0, False))


def _mp_value(spot, carry_rate, strike, t, rate, vol, is_call):
    fwd = spot * mp.exp(carry_rate * t)
    return mp_price(fwd, strike, t, rate, vol, is_call)


def test_greeks_units_against_mpmath_derivatives():
    """delta/gamma are dV/dS, d2V/dS2 with the carry F/S fixed; vega is per 1.00 of vol; theta is
    -dV/dT per year with spot fixed and F = S exp(mu T) carried; theta_day = theta/365."""
    mu = math.log(FWD / SPOT) / (390 * MINUTE)  # carry rate so that F/S holds at 390 min
    cases = [(5 * MINUTE, 0.3, 603.0, True), (30 * MINUTE, 0.18, 592.0, False), (390 * MINUTE, 0.12, 600.0, True), (MINUTE, 0.5, 599.5, False)]
    for t, vol, k, c in cases:
        fwd = SPOT * math.exp(mu * t)
        g = greeks(SPOT, fwd, k, t, RATE, vol, c)
        mt, mv = mp.mpf(t), mp.mpf(vol)
        d = mp.diff(lambda s: _mp_value(s, mu, k, mt, RATE, mv, c), mp.mpf(SPOT))
        d2 = mp.diff(lambda s: _mp_value(s, mu, k, mt, RATE, mv, c), mp.mpf(SPOT), 2)
        dv = mp.diff(lambda v: _mp_value(mp.mpf(SPOT), mu, k, mt, RATE, v, c), mv)
        dt = mp.diff(lambda tt: _mp_value(mp.mpf(SPOT), mu, k, tt, RATE, mv, c), mt)
        assert float(g.delta) == pytest.approx(float(d), rel=1e-9)
        assert float(g.gamma) == pytest.approx(float(d2), rel=1e-9)
        assert float(g.vega) == pytest.approx(float(dv), rel=1e-9)
        assert float(g.theta) == pytest.approx(-float(dt), rel=1e-9)
        assert float(g.theta_day) == pytest.approx(-float(dt) / 365.0, rel=1e-9)


def test_greeks_scalar_helpers_agree_with_kernel():
    t, vol, k, c = greek_grid()
    n = t.size
    d, gm, v, th = greeks_kernel(np.full(n, SPOT), np.full(n, FWD), k, t, np.full(n, RATE), vol, c)
    for i in range(n):
        assert black_gamma_scalar(SPOT, FWD, k[i], t[i], RATE, vol[i]) == pytest.approx(gm[i], rel=1e-14)
        assert black_greeks_scalar(SPOT, FWD, k[i], t[i], RATE, vol[i], c[i]) == (d[i], gm[i], v[i], th[i])
    # put-call relations: same gamma and vega; delta differs by DF*F/S
    both = greeks(np.full(2, SPOT), np.full(2, FWD), np.full(2, 605.0), np.full(2, MINUTE * 30), np.full(2, RATE), np.full(2, 0.2), np.array([True, False]))
    assert both.gamma[0] == pytest.approx(both.gamma[1], rel=1e-14)
    assert both.vega[0] == pytest.approx(both.vega[1], rel=1e-14)
    assert both.delta[0] - both.delta[1] == pytest.approx(math.exp(-RATE * MINUTE * 30) * FWD / SPOT, rel=1e-12)


@pytest.mark.parametrize("t, vol, spot", [(0.0, 0.2, SPOT), (-MINUTE, 0.2, SPOT), (MINUTE, 0.0, SPOT), (MINUTE, math.nan, SPOT), (math.nan, 0.2, SPOT), (MINUTE, 0.2, 0.0)])
def test_greeks_degenerate_give_nan(t, vol, spot):
    g = greeks(spot, FWD, 601.0, t, RATE, vol, True)
    for name in ("delta", "gamma", "vega", "theta", "theta_day"):
        assert np.isnan(getattr(g, name)).all(), name
    assert math.isnan(black_gamma_scalar(spot, FWD, 601.0, t, RATE, vol))


def test_greeks_broadcast_and_frozen():
    g = greeks(SPOT, FWD, np.array([590.0, 600.0, 610.0]), 30 * MINUTE, RATE, 0.2, True)
    assert g.delta.shape == (3,) and np.all(np.diff(g.delta) < 0)
    with pytest.raises(Exception):
        g.delta = np.zeros(3)  # type: ignore[misc]


def test_black_price_scalar_limits():
    assert black_price_scalar(600.0, 590.0, 0.0, RATE, 0.2, True) == pytest.approx(10.0)
    assert black_price_scalar(600.0, 590.0, MINUTE, RATE, 0.0, False) == 0.0
    assert math.isnan(black_price_scalar(600.0, 590.0, MINUTE, RATE, math.nan, True))
