"""Interval volume as trades: a compound Poisson flow of prints per line.

The clean simulator draws each interval's volume from a negative binomial
around its expected share. Here volume is what prints add up to: in each
interval a line prints ``Poisson(mu / mean_size)`` times, each print a small
lot from a discrete Pareto (most 1 to 20) or, now and then on an active line,
a block of 100 to 500. So an ordinary day has bursts of a few hundred
contracts in one interval on the busiest lines, which is what a volume
baseline has to live with.

The intensity over the day is ``daily_volume / session * weight(line) *
(shape(x) + sum of bursts)``: ``shape`` a U in the session fraction x (mean 1),
bursts ``A * exp(-(t - t0) / tau)`` for the opening (``SessionStart``) and after
a gap. Expected volumes are integrals of it over each interval, so a coarse
interval still sees the right share of a short burst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spyglass.sim.conditions import TradeVolume

_EXACT_MAX = 4000  # prints per line and interval drawn one by one; above, a normal approximation of their sum


@dataclass(frozen=True)
class Burst:
    """Extra intensity ``amplitude * exp(-(t - start_s) / decay_s)`` from ``start_s`` (seconds after the open)."""

    start_s: float
    amplitude: float
    decay_s: float

    def integral(self, t0: float, t1: float) -> float:
        """Integral over [t0, t1] in seconds, in units of the day's mean rate."""
        a, b = max(t0, self.start_s), max(t1, self.start_s)
        if b <= a:
            return 0.0
        tau = self.decay_s
        return self.amplitude * tau * (math.exp(-(a - self.start_s) / tau) - math.exp(-(b - self.start_s) / tau))


class Intensity:
    """The day's trading intensity in units of its mean rate: a U-shaped session plus bursts.

    Without a ``TradeVolume`` (the clean negative-binomial volume) only ``bursts_share`` applies.
    """

    def __init__(self, cfg: TradeVolume | None, session_s: float, bursts: list[Burst]) -> None:
        self.cfg = cfg
        self.session_s = session_s
        self.bursts = bursts
        self._norm = self._raw(1.0) if cfg is not None else 1.0

    def _raw(self, x: float) -> float:
        c = self.cfg
        x = min(max(x, 0.0), 1.0)
        return (
            c.level * x
            + c.open_weight * c.open_decay * (1.0 - math.exp(-x / c.open_decay))
            + c.close_weight * c.close_decay * (math.exp(-(1.0 - x) / c.close_decay) - math.exp(-1.0 / c.close_decay))
        )

    def share(self, t0: float, t1: float) -> float:
        """The session-mean-rate seconds of trading in [t0, t1] (seconds after the open), U and bursts."""
        T = self.session_s
        base = T * (self._raw(t1 / T) - self._raw(t0 / T)) / self._norm
        return base + self.bursts_share(t0, t1)

    def bursts_share(self, t0: float, t1: float) -> float:
        return sum(b.integral(t0, t1) for b in self.bursts)


class PrintSizes:
    """Print sizes: a discrete Pareto of small lots, or a log-uniform block."""

    def __init__(self, cfg: TradeVolume, block_share: float) -> None:
        self.cfg = cfg
        self.block_share = block_share
        k = np.arange(1, cfg.size_cap + 1, dtype=float)
        pmf = k ** -cfg.size_tail - (k + 1) ** -cfg.size_tail
        pmf[-1] += (cfg.size_cap + 1) ** -cfg.size_tail  # everything above the cap prints at the cap
        self.small_mean = float((k * pmf).sum())
        self.small_m2 = float((k * k * pmf).sum())
        lo, hi = cfg.block_size
        self._log_lo, self._log_hi = math.log(lo), math.log(hi + 0.5)
        if hi > lo:
            span = self._log_hi - self._log_lo
            self.block_mean = (hi + 0.5 - lo) / span
            self.block_m2 = ((hi + 0.5) ** 2 - lo**2) / (2 * span)
        else:
            self.block_mean, self.block_m2 = float(lo), float(lo) ** 2

    def mean(self, p_block: np.ndarray) -> np.ndarray:
        return (1 - p_block) * self.small_mean + p_block * self.block_mean

    def second_moment(self, p_block: np.ndarray) -> np.ndarray:
        return (1 - p_block) * self.small_m2 + p_block * self.block_m2

    def draw(self, rng: np.random.Generator, p_block: np.ndarray) -> np.ndarray:
        m = p_block.shape[0]
        u = rng.random(m)
        small = np.minimum(np.floor((1.0 - rng.random(m)) ** (-1.0 / self.cfg.size_tail)), self.cfg.size_cap)
        lo, hi = self.cfg.block_size
        block = np.clip(np.floor(np.exp(rng.uniform(self._log_lo, self._log_hi, m))), lo, hi)
        return np.where(u < p_block, block, small).astype(np.int64)


class TradeFlow:
    """Interval volume per line from prints (see the module docstring)."""

    def __init__(self, cfg: TradeVolume, block_share: float, rng: np.random.Generator) -> None:
        self.sizes = PrintSizes(cfg, block_share)
        self.rng = rng

    def block_probability(self, weight: np.ndarray) -> np.ndarray:
        """Blocks happen on active lines: ``block_share`` on the busiest, in proportion below it."""
        top = float(weight.max()) if weight.size else 0.0
        return self.sizes.block_share * (weight / top if top > 0 else weight)

    def draw(self, mu: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """Contracts printed per line in one interval whose expected volume is ``mu``."""
        rng = self.rng
        p = self.block_probability(weight)
        mean = self.sizes.mean(p)
        counts = rng.poisson(mu / mean)
        out = np.zeros(mu.shape[0], np.int64)
        big = counts > _EXACT_MAX
        small_counts = np.where(big, 0, counts)
        total = int(small_counts.sum())
        if total:
            line = np.repeat(np.arange(mu.shape[0]), small_counts)
            out += np.bincount(line, weights=self.sizes.draw(rng, p[line]), minlength=mu.shape[0]).astype(np.int64)
        if big.any():  # thousands of prints (a late start's morning): their sum is normal to a fraction of a percent
            i = np.flatnonzero(big)
            var = counts[i] * (self.sizes.second_moment(p[i]) - mean[i] ** 2)
            s = counts[i] * mean[i] + np.sqrt(var) * rng.standard_normal(i.size)
            out[i] = np.maximum(np.rint(s), counts[i]).astype(np.int64)
        return out
