"""Dealer gamma exposure (GEX) by strike and the zero-gamma level(s).

Convention (stated because tools disagree): GEX is in dollars of delta-hedge
flow per 1% move of the underlying, ``gamma * OI * multiplier * S^2 * 0.01``,
counted positive for calls and negative for puts. That is the usual dealer-side
assumption: customers are net long puts and net short calls, so dealers are
long call gamma and short put gamma. Positive total GEX means dealer hedging
damps moves; negative means it amplifies them.

Open interest is last night's OCC figure: for 0DTE it misses everything opened
today, so these numbers describe the book as of the open, not now.

Zero gamma is found the correct way: the whole book is re-priced across a grid
of spot levels (vols sticky by strike, time fixed) and every sign change of the
total is located, so several roots are reported when they exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from spyglass.analytics.nan import nz


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_FAR = 10.0  # standard deviations


@njit(cache=True)
def _book(strike, vol, sign_oi, t, carry):
    """Per-contract constants so that re-pricing gamma at a new spot costs one exp.

    With F = S * carry, gamma = DF * carry * phi(d1) / (S * sd) and
    d1 = ln(S) / sd + (ln(carry) - ln(K)) / sd + sd / 2.
    """
    keep = np.flatnonzero((sign_oi != 0.0) & (vol == vol) & (vol > 0.0))
    n = keep.shape[0]
    inv_sd, offset, weight = np.empty(n), np.empty(n), np.empty(n)
    lc = math.log(carry)
    for j in range(n):
        i = keep[j]
        sd = vol[i] * math.sqrt(t)
        inv_sd[j] = 1.0 / sd
        offset[j] = (lc - math.log(strike[i])) / sd + 0.5 * sd
        weight[j] = sign_oi[i] / sd
    return inv_sd, offset, weight


@njit(cache=True)
def _total(spot, inv_sd, offset, weight, scale) -> float:
    ls = math.log(spot)
    acc = 0.0
    near = False
    for j in range(inv_sd.shape[0]):
        d1 = ls * inv_sd[j] + offset[j]
        if -_FAR < d1 < _FAR:  # beyond, phi(d1) < 1e-21 of its peak: nothing a total can feel, and no exp paid
            acc += weight[j] * math.exp(-0.5 * d1 * d1)
            near = True
    if not near:  # every strike far away: the far tails are all there is, and their sign is the answer
        for j in range(inv_sd.shape[0]):
            d1 = ls * inv_sd[j] + offset[j]
            acc += weight[j] * math.exp(-0.5 * d1 * d1)
    return acc * scale * spot


@njit(cache=True)
def gex_profile(spots, carry, strike, t, rate, vol, sign_oi, multiplier) -> np.ndarray:
    """Total GEX (dollars per 1% move) at each spot, vols sticky by strike, time fixed."""
    inv_sd, offset, weight = _book(strike, vol, sign_oi, t, carry)
    scale = multiplier * 0.01 * math.exp(-rate * t) * carry * _INV_SQRT_2PI
    out = np.empty(spots.shape[0])
    for j in range(spots.shape[0]):
        out[j] = _total(spots[j], inv_sd, offset, weight, scale)
    return out


@njit(cache=True)
def zero_gamma_levels(spots, carry, strike, t, rate, vol, sign_oi, multiplier) -> np.ndarray:
    """Every spot in the grid's range where total GEX changes sign, refined by regula falsi."""
    inv_sd, offset, weight = _book(strike, vol, sign_oi, t, carry)
    scale = multiplier * 0.01 * math.exp(-rate * t) * carry * _INV_SQRT_2PI
    roots = []
    g_prev = _total(spots[0], inv_sd, offset, weight, scale)
    for j in range(1, spots.shape[0]):
        g = _total(spots[j], inv_sd, offset, weight, scale)
        if g_prev == 0.0:
            roots.append(spots[j - 1])
        elif (g_prev > 0.0) != (g > 0.0) and g != 0.0:
            lo, hi, glo, ghi = spots[j - 1], spots[j], g_prev, g
            for _ in range(3):
                x = lo - glo * (hi - lo) / (ghi - glo)
                gx = _total(x, inv_sd, offset, weight, scale)
                if gx == 0.0:
                    lo = hi = x
                    break
                if (gx > 0.0) == (glo > 0.0):
                    lo, glo = x, gx
                else:
                    hi, ghi = x, gx
            roots.append(lo if lo == hi else lo - glo * (hi - lo) / (ghi - glo))
        g_prev = g
    out = np.empty(len(roots))
    for j in range(len(roots)):
        out[j] = roots[j]
    return out


@njit(cache=True)
def _by_strike(strike, contrib):
    strikes = np.unique(strike)
    total = np.zeros(strikes.shape[0])
    for i in range(strike.shape[0]):
        total[np.searchsorted(strikes, strike[i])] += contrib[i]
    return strikes, total


@dataclass(frozen=True, slots=True)
class Exposure:
    strikes: np.ndarray  # unique strikes, ascending
    gex_by_strike: np.ndarray  # dollars per 1% move at the current spot
    total: float
    zero_gamma: tuple[float, ...]  # every spot level where total GEX changes sign


def gamma_exposure(
    spot: float,
    forward: float,
    strike: np.ndarray,
    is_call: np.ndarray,
    open_interest: np.ndarray,
    vol: np.ndarray,
    gamma: np.ndarray,
    t: float,
    rate: float,
    multiplier: float,
    span: float = 0.04,
    grid: int = 41,
) -> Exposure:
    if t <= 0 or not np.isfinite(spot):
        return Exposure(np.unique(strike), np.zeros(np.unique(strike).size), 0.0, ())
    oi = nz(open_interest)
    sign_oi = np.where(is_call, oi, -oi)
    carry = forward / spot
    strikes, by_strike = _by_strike(strike, sign_oi * nz(gamma) * multiplier * spot * spot * 0.01)
    spots = spot * np.linspace(1.0 - span, 1.0 + span, grid)
    roots = zero_gamma_levels(spots, carry, strike, t, rate, vol, sign_oi, multiplier)
    return Exposure(strikes, by_strike, float(by_strike.sum()), tuple(float(r) for r in roots))
