"""The robust screen: a quote far outside what its neighbours imply is a bad print, not a price.

Runs before the forward and the smile are fitted, so one bad line has no
weight anywhere: not in the forward, not in the fit, not in any neighbour's
fair value. Each line is compared with its neighbours on the smile: the
median out-of-the-money implied vol of the two strikes either side
(excluding lines already known bad or frozen; at least three of the four,
so one odd neighbour cannot move it; else the last fit's vol at that strike), priced on the carry forward. A side
(bid or ask) is an outlier when it is off that neighbour value

- by ``outlier_vol_points`` or more in implied vol (or has no implied vol at
  all: above what the option can be worth), while the vol is well
  conditioned (not in the last minutes), or
- by a factor of ``outlier_ratio`` or more in price (a decimal slip, a bid
  many times fair, an ask that collapsed), at any time,

and in both cases by more than ``outlier_half_spreads`` of the neighbours'
half-spreads (at least five ticks), so penny quotes never qualify. Both
thresholds sit far beyond any tradeable mispricing or genuine vol move of one
line (a few half-spreads, a few vol points), so the screen takes bad data out
without taking opportunities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from spyglass.analytics.black import black_price, implied_vol
from spyglass.config import DetectorConfig
from spyglass.contract import Chain
from spyglass.detect.neighbours import window_median

MIN_TICKS = 5.0


@njit(cache=True)
def smile_neighbours(strike, is_call, iv, half, forward):
    """Per line: the median out-of-the-money vol and half-spread of the two strikes either side of its strike
    (at least three of the four for the vol), and whether the smile is *supported* there: a usable two-sided
    quote at the strike itself, or within two strikes on each side (an interpolation, not a wing the spline
    extrapolates); by any such quote, and by out-of-the-money ones only (what a one-sided line needs, since in a
    wing where only in-the-money quotes are two-sided the smile is theirs to get wrong). Out of the money only: in-the-money vols are noise, and by parity a call and
    a put at one strike share a vol, so the smile is read from calls above the forward and puts below it. NaN
    in ``iv`` marks a line that may not serve as a neighbour."""
    strikes = np.unique(strike)
    m = strikes.shape[0]
    at = np.searchsorted(strikes, strike)
    per_iv = np.full(m, np.nan)
    per_half = np.full(m, np.nan)
    quoted = np.zeros(m, dtype=np.bool_)
    for i in range(strike.shape[0]):
        if iv[i] == iv[i]:
            quoted[at[i]] = True  # any trusted two-sided line pins its strike's vol (by parity, for either right)
        otm = strike[i] >= forward if is_call[i] else strike[i] <= forward
        if otm and iv[i] == iv[i]:  # at the forward both may be out of the money: either serves
            per_iv[at[i]] = iv[i]
            per_half[at[i]] = half[i]
    return (window_median(per_iv, 2, False, 3)[at], window_median(per_half, 2, False, 1)[at],
            _surrounded(quoted)[at], _surrounded(per_iv == per_iv)[at])


@njit(cache=True)
def _surrounded(quoted):
    """A strike quoted itself, or within two strikes on each side."""
    m = quoted.shape[0]
    out = np.zeros(m, dtype=np.bool_)
    for j in range(m):
        left = (j >= 1 and quoted[j - 1]) or (j >= 2 and quoted[j - 2])
        right = (j + 1 < m and quoted[j + 1]) or (j + 2 < m and quoted[j + 2])
        out[j] = quoted[j] or (left and right)
    return out


@dataclass(frozen=True, slots=True)
class Screen:
    outlier: np.ndarray
    neighbour_fair: np.ndarray  # what the neighbours' vols say the line is worth (NaN: too few neighbours)
    neighbour_iv: np.ndarray
    side: np.ndarray  # "bid" or "ask": the side that is off, where outlier
    supported: np.ndarray  # trusted quotes around the line's strike: a fair value there is evidence


def screen(chain: Chain, forward: float, t: float, rate: float, excluded: np.ndarray, last_fit_vol: np.ndarray,
           tick: float, near_close: bool, cfg: DetectorConfig) -> Screen:
    """``last_fit_vol``: the previous snapshot's fitted vol per line, the reference where a line has fewer than
    three usable neighbours (the wings)."""
    n = len(chain)
    bid, ask = chain.bid, chain.ask
    with np.errstate(invalid="ignore"):
        two = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)
        has_bid, has_ask = np.isfinite(bid) & (bid > 0), np.isfinite(ask) & (ask > 0)
    if t <= 0 or not two.any():
        none = np.zeros(n, dtype=np.bool_)
        return Screen(none, np.full(n, np.nan), np.full(n, np.nan), np.full(n, "", dtype=object), none)
    mid = np.where(two, 0.5 * (bid + ask), np.nan)
    iv = implied_vol(mid, np.full(n, forward), chain.strike, np.full(n, t), np.full(n, rate), chain.is_call)
    usable = two & ~excluded & np.isfinite(iv)
    nb_iv, nb_half, any_side, otm_side = smile_neighbours(chain.strike, chain.is_call, np.where(usable, iv, np.nan),
                                                          0.5 * (ask - bid), forward)
    supported = np.where(two, any_side, otm_side)
    nb_iv = np.where(np.isfinite(nb_iv), nb_iv, np.where(supported, last_fit_vol, np.nan))
    nb_half = np.where(np.isfinite(nb_half), np.fmax(nb_half, 0.5 * tick), 0.5 * tick)
    known = np.isfinite(nb_iv)
    fair = black_price(np.full(n, forward), chain.strike, np.full(n, t), np.full(n, rate), np.where(known, nb_iv, 0.2),
                       chain.is_call)
    fair = np.where(known, fair, np.nan)
    far = np.fmax(cfg.outlier_half_spreads * nb_half, MIN_TICKS * tick)
    r, v = cfg.outlier_ratio, cfg.outlier_vol_points / 100.0
    vol_ok = not near_close  # in the last minutes vols are ill-conditioned: the price test alone decides
    with np.errstate(invalid="ignore"):
        rich = has_bid & (bid - fair > far)
        cheap = has_ask & (fair - ask > far)
        # the vol test only where the price is already far off: a side's implied vol costs a solve
        rich &= (bid > r * fair) | (vol_ok & ~(_side_iv(bid, rich, forward, chain, t, rate) - nb_iv < v))
        cheap &= (ask * r < fair) | (vol_ok & (nb_iv - _side_iv(ask, cheap, forward, chain, t, rate) > v))
    out = (rich | cheap) & ~excluded & known
    side = np.where(rich, "bid", "ask").astype(object)
    return Screen(out, fair, nb_iv, side, supported)


def _side_iv(price: np.ndarray, where: np.ndarray, forward: float, chain: Chain, t: float, rate: float) -> np.ndarray:
    """Implied vol of one side at the lines ``where`` (NaN elsewhere, and where the price has none)."""
    out = np.full(price.shape[0], np.nan)
    idx = where.nonzero()[0]
    if idx.size:
        m = idx.size
        out[idx] = implied_vol(price[idx], np.full(m, forward), chain.strike[idx], np.full(m, t), np.full(m, rate),
                               chain.is_call[idx])
    return out
