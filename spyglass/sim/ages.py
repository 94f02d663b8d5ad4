"""Quote activity and truthful quote ages.

A line's quote ticks as a Poisson process: an at-the-money line a few times a
second, a far out-of-the-money line once a minute or less (``Liquidity``).
A tick that moves no price still refreshes a size, so between price moves the
shown sizes flicker the way a real book's do.

The age at a snapshot is the time since the line's shown bid, ask or sizes
last changed. When they changed during the interval, the last tick's time is
drawn from the tick process conditioned on at least one tick (a truncated
exponential); when they did not, the age is the previous one plus the
interval. A receive jitter (0 to ``jitter_ms``) is drawn once per change and
kept while the line stands still, so a frozen line's age grows by exactly the
interval. Every snapshot draws the same number of variates, so what other
conditions do to the quotes never shifts this stream.
"""

from __future__ import annotations

import numpy as np

from spyglass.sim.conditions import QuoteAges
from spyglass.sim.display import Shown

FIRST_AGE_CAP_S = 600.0
_SCALE = 0.004  # log-moneyness over which the tick rate falls from at-the-money to far


class QuoteClock:
    def __init__(self, cfg: QuoteAges, ticks_per_s: float, ticks_per_s_far: float, strike: np.ndarray,
                 interval_s: float, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.atm_rate = ticks_per_s
        self.far_rate = ticks_per_s_far
        self.strike = strike
        self.interval_s = interval_s
        self.rng = rng
        n = strike.shape[0]
        self.age_s = np.zeros(n)
        self.jitter_ms = np.zeros(n)
        self._lam = self._u_tick = self._u_when = self._u_flick = self._u_jit = np.zeros(n)

    def rates(self, spot: float) -> np.ndarray:
        x = np.abs(np.log(self.strike / spot))
        return self.far_rate + (self.atm_rate - self.far_rate) * np.exp(-x / _SCALE)

    def draw(self, spot: float) -> None:
        """This snapshot's tick rates and variates (four per line, always)."""
        self._lam = self.rates(spot)
        self._u_tick, self._u_when, self._u_flick, self._u_jit = self.rng.random((4, self.strike.shape[0]))

    def flicker(self, shown, before: Shown | None, changed: np.ndarray) -> None:
        """Lines that ticked in the interval but show the same quote and sizes: one size moves by 1 to 3 lots."""
        if before is None:
            return
        ticked = self._u_tick < -np.expm1(-self._lam * self.interval_s)
        idx = np.flatnonzero(ticked & ~changed)
        if not idx.size:
            return
        u = self._u_flick[idx]  # one variate: 1..3 lots, down or up, on the bid (if any) or the ask
        step = (1 + np.floor(u * 6) % 3).astype(np.int64)
        on_bid = (np.floor(u * 12) % 2 == 1) & ~shown.no_bid[idx]
        size = np.where(on_bid, shown.bid_size[idx], shown.ask_size[idx])
        size = np.where((u < 0.5) & (size - step >= 1), size - step, size + step)
        shown.bid_size[idx[on_bid]] = size[on_bid]
        shown.ask_size[idx[~on_bid]] = size[~on_bid]

    def update(self, changed: np.ndarray | None) -> np.ndarray:
        """Advance the ages to this snapshot; ``changed`` None for the first one. Returns whole milliseconds."""
        lam = self._lam
        if changed is None:  # the backward recurrence time of the tick process, capped
            self.age_s = np.minimum(-np.log1p(-self._u_when) / lam, FIRST_AGE_CAP_S)
            self.jitter_ms = self._u_jit * self.cfg.jitter_ms
        else:
            iv = self.interval_s
            last = -np.log1p(self._u_when * np.expm1(-lam * iv)) / lam  # in (0, iv]: the last tick's age
            self.age_s = np.where(changed, np.minimum(last, iv), self.age_s + iv)
            self.jitter_ms = np.where(changed, self._u_jit * self.cfg.jitter_ms, self.jitter_ms)
        return np.rint(self.age_s * 1000.0 + self.jitter_ms).astype(np.int64)
