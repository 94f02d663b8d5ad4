"""Price one snapshot: forward, implied vols, smile, fair values, greeks.

``PricedChain`` is the single per-snapshot view every detector and the
analytics summary read, so each number is computed once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timezone

import numpy as np

from spyglass.analytics.black import Greeks, black_price, greeks, implied_vol
from spyglass.analytics.forward import ForwardEstimate, broken_pairs, parity_forward, two_sided
from spyglass.analytics.smile import SmileFit, fit_smile
from spyglass.clock import NEW_YORK, session_close, time_to_expiry
from spyglass.config import DetectorConfig, UnderlyingSpec
from spyglass.contract import Chain, Snapshot


@dataclass(frozen=True, slots=True)
class PricedChain:
    snapshot: Snapshot
    spec: UnderlyingSpec
    t: float  # years to the close
    minutes_to_close: float
    rate: float
    dividend_yield: float
    forward: ForwardEstimate
    mid: np.ndarray
    half_spread: np.ndarray
    two_sided: np.ndarray  # the quote is two-sided (whether or not it can be trusted)
    usable: np.ndarray  # two-sided and trusted: what set the forward and the smile
    bid_iv: np.ndarray
    ask_iv: np.ndarray
    mid_iv: np.ndarray
    fit: SmileFit
    fitted_iv: np.ndarray
    fair: np.ndarray  # model price from the fitted smile (European)
    residual: np.ndarray  # (mid - fair) / half-spread
    greeks: Greeks  # at the fitted vol

    @property
    def chain(self) -> Chain:
        return self.snapshot.chain

    @property
    def near_close(self) -> bool:
        return self.fit.space == "price"

    @property
    def discount(self) -> float:
        return math.exp(-self.rate * self.t)


def expiry_close_of(snapshot: Snapshot, spec: UnderlyingSpec) -> datetime:
    """The snapshot's own close, else the exchange calendar's (early closes included), else 16:00 New York."""
    if snapshot.expiry_close is not None:
        return snapshot.expiry_close
    try:
        return session_close(snapshot.expiry, spec.calendar)
    except ValueError:  # not a session, or outside the calendar's range: the regular close
        return datetime.combine(snapshot.expiry, time(16, 0), NEW_YORK).astimezone(timezone.utc)


def carry_inputs(snapshot: Snapshot, spec: UnderlyingSpec) -> tuple[float, float, float]:
    """(years to the close, rate, dividend yield) of a snapshot, defaults filled in."""
    t = time_to_expiry(snapshot.ts, expiry_close_of(snapshot, spec))
    rate = spec.default_rate if snapshot.rate is None else snapshot.rate
    q = spec.default_dividend_yield if snapshot.dividend_yield is None else snapshot.dividend_yield
    return t, rate, q


def price_chain(snapshot: Snapshot, spec: UnderlyingSpec, cfg: DetectorConfig, smile_prior: dict | None = None,
                trusted: np.ndarray | None = None) -> PricedChain:
    """Price a snapshot; only ``trusted`` quotes (default: all) set the forward and the smile."""
    chain = snapshot.chain
    n = len(chain)
    t, rate, q = carry_inputs(snapshot, spec)
    ok = two_sided(chain.bid, chain.ask)
    usable = ok if trusted is None else ok & trusted
    fwd = parity_forward(chain, snapshot.spot, t, rate, q, usable, tick=spec.tick,
                         pair_half_spreads=cfg.forward_pair_half_spreads, spot_half_spreads=cfg.spot_mismatch_half_spreads)
    mid = np.where(ok, 0.5 * (chain.bid + chain.ask), np.nan)
    half = np.where(ok, np.maximum(0.5 * (chain.ask - chain.bid), 0.5 * spec.tick), np.nan)

    # one kernel call for bid, ask and mid IVs
    f3 = np.full(3 * n, fwd.forward)
    k3 = np.tile(chain.strike, 3)
    c3 = np.tile(chain.is_call, 3)
    prices = np.concatenate((np.where(ok, chain.bid, np.nan), np.where(ok, chain.ask, np.nan), mid))
    ivs = implied_vol(prices, f3, k3, np.full(3 * n, t), np.full(3 * n, rate), c3)
    bid_iv, ask_iv, mid_iv = ivs[:n], ivs[n:2 * n], ivs[2 * n:]

    near_close = t * 525600.0 <= cfg.near_close_minutes
    # a pair broken beyond its own spread cannot tell the smile anything: its legs do not shape the fit
    shaping = usable & ~broken_pairs(chain, usable, fwd.forward, snapshot.spot, t, rate, q, spec.tick,
                                     cfg.forward_pair_half_spreads)
    fit = fit_smile(
        chain.strike, chain.is_call, np.where(shaping, chain.bid, np.nan), np.where(shaping, chain.ask, np.nan),
        mid_iv, fwd.forward, t, rate, tick=spec.tick, near_close=near_close, min_price=cfg.min_price,
        prior=smile_prior,
    )
    if fit.ok:
        fitted = fit.vol(chain.strike)
        fair = black_price(np.full(n, fwd.forward), chain.strike, np.full(n, t), np.full(n, rate), fitted, chain.is_call)
    else:
        fitted = np.full(n, np.nan)
        fair = np.full(n, np.nan)
    g = greeks(np.full(n, snapshot.spot), np.full(n, fwd.forward), chain.strike, np.full(n, max(t, 0.0)),
               np.full(n, rate), fitted, chain.is_call)
    return PricedChain(
        snapshot=snapshot, spec=spec, t=t, minutes_to_close=t * 525600.0, rate=rate, dividend_yield=q,
        forward=fwd, mid=mid, half_spread=half, two_sided=ok, usable=usable, bid_iv=bid_iv, ask_iv=ask_iv, mid_iv=mid_iv,
        fit=fit, fitted_iv=fitted, fair=fair, residual=(mid - fair) / half, greeks=g,
    )
