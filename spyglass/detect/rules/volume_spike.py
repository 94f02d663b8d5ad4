"""volume_spike: a line trading far more than its own flow and the chain's ordinary blocks explain.

Interval volume is the difference of cumulative volume since the line's
volume was last seen, so irregular spacing and lines left out for a while
(stale, bad) are fair. Three baselines must all be beaten:

- **the line's own flow**: an exponentially weighted rate per second
  (``VOLUME_TAU`` seconds, fed winsorised so a spike does not become its own
  baseline), times the interval. It follows the time of day by itself: the
  heavy open, the quiet lunch, the busy close. Until a line has
  ``volume_warmup`` observations it borrows the busiest of its own rate, the
  median rate of nearby strikes of the same right, and a prior from last
  night's open interest (``volume_oi_turnover`` of it spread over a regular
  session: a line many hold is expected to trade);
- **the chain's ordinary block**: 0DTE lines print blocks of a few hundred
  contracts every few minutes somewhere in the chain (one print, not a
  story). Each snapshot, the largest excess over expectation of any line goes
  into a histogram (log-spaced bins, exponentially weighted with a half-life
  of ``BLOCK_HALF_LIFE`` seconds); the ordinary block is its
  ``BLOCK_QUANTILE`` quantile. Blocks land in a few percent of snapshots and
  set it; a spike lands in a handful and cannot teach the chain to expect
  spikes. A spike must exceed its own expectation by ``volume_block_multiple``
  times the ordinary block;
- **maturity**: nothing fires in the first ``volume_warmup_seconds`` of a
  chain's day (the opening burst arrives before any baseline exists) or
  before the histogram holds ``volume_warmup_snapshots`` snapshots, nor on a line
  with no baseline of its own or its neighbours'.

Fires when the interval volume is at least ``volume_min_interval`` contracts
and ``volume_ratio`` x the expectation and beyond the block allowance. Score:
the ratio. Severity: ratio >= 50 high, >= 25 medium. Volume on IBKR is
aggregated: this says "unusual volume", not "sweep".
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.nan import nz
from spyglass.config import DetectorConfig
from spyglass.contract import Chain
from spyglass.detect.finding import Finding, contract_label, r4, severity_from
from spyglass.detect.neighbours import neighbour_median
from spyglass.detect.state import ContractSeries

VOLUME_TAU = 300.0
BLOCK_HALF_LIFE = 7200.0
BLOCK_QUANTILE = 0.99
BLOCK_EDGES = np.geomspace(10.0, 1e6, 81)  # bin k holds excesses in [edge k-1, edge k); bin 0 anything below 10
SESSION_SECONDS = 23_400.0  # a regular session, 09:30-16:00
RATE_FLOOR = 0.01  # contracts per second: a line that never trades is not infinitely sensitive


def interval_rate(chain: Chain, prev: ContractSeries, ts_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(volume per second, seconds) since each line's volume was last seen, to ``ts_s`` (per line, epoch s): a
    line that was frozen or bad for a while measures its rate over the whole gap, not over the last interval."""
    with np.errstate(invalid="ignore"):
        inc = chain.volume - prev["volume"]
        interval = ts_s - prev["volume_ts"]
        ok = (inc >= 0) & (interval > 0)
        return np.where(ok, inc / np.where(ok, interval, 1.0), np.nan), np.where(ok, interval, np.nan)


def baseline(chain: Chain, prev: ContractSeries, cfg: DetectorConfig) -> np.ndarray:
    """Expected rate per second per line (NaN: no baseline yet); warm-up lines borrow from their neighbours and
    their open interest."""
    mean = prev["rate_mean"]
    known = prev["rate_obs"] >= 1
    cold = ~(prev["rate_obs"] >= cfg.volume_warmup)
    if cold.any():
        near = neighbour_median(chain, np.where(known, mean, np.nan), 3, True)
        with np.errstate(invalid="ignore"):
            held = np.where(chain.open_interest > 0, chain.open_interest * cfg.volume_oi_turnover / SESSION_SECONDS,
                            np.nan)
        mean = np.where(cold, np.fmax(np.fmax(np.where(known, mean, np.nan), near), held), mean)
    return np.where(np.isfinite(mean), np.fmax(mean, RATE_FLOOR), np.nan)


def detect(chain: Chain, rate: np.ndarray, dt: np.ndarray, mean: np.ndarray, block: float, clean: np.ndarray,
           cfg: DetectorConfig) -> tuple[list[Finding], np.ndarray]:
    """(findings, each line's excess over expectation in contracts: what teaches the block size); ``block``
    NaN: the chain's baselines are not mature, nothing fires."""
    with np.errstate(invalid="ignore"):
        inc = rate * dt
        expected = mean * dt
        excess = np.where(clean & np.isfinite(expected), inc - expected, np.nan)
        ratio = rate / mean
        hit = (clean & (inc >= cfg.volume_min_interval) & (ratio >= cfg.volume_ratio)
               & (excess >= cfg.volume_block_multiple * block))
    if not math.isfinite(block):
        return [], excess
    out = []
    for i in np.flatnonzero(hit):
        name = contract_label(bool(chain.is_call[i]), float(chain.strike[i]))
        oi = chain.open_interest[i]
        oi_txt = f"; open interest {oi:,.0f} (last night's)" if math.isfinite(oi) else ""
        summary = (f"{name}: {inc[i]:,.0f} contracts traded in {dt[i]:.0f} s, {ratio[i]:.0f}x its usual "
                   f"{expected[i]:,.1f} per {dt[i]:.0f} s and beyond the chain's ordinary {block:,.0f}-lot "
                   f"blocks{oi_txt}")
        out.append(Finding(
            "volume_spike", "C" if chain.is_call[i] else "P", float(chain.strike[i]), float(ratio[i]),
            severity_from(float(ratio[i]), 25.0, 50.0), "volume_spike.beyond_flow_and_blocks", summary,
            numbers={"interval_volume": r4(inc[i]), "interval_seconds": r4(dt[i]), "baseline_per_second": r4(mean[i]),
                     "ratio": r4(ratio[i]), "ordinary_block": r4(block), "cumulative_volume": r4(chain.volume[i]),
                     "open_interest": r4(oi)},
        ))
    return out, excess


def block_size(hist: list[float] | None, cfg: DetectorConfig) -> float:
    """The chain's ordinary block: the ``BLOCK_QUANTILE`` quantile of the per-snapshot largest excess (the
    upper edge of its bin, so a block of that size is inside it); NaN until the histogram is mature."""
    if not hist or sum(hist) < cfg.volume_warmup_snapshots:
        return math.nan
    cum = np.cumsum(hist)
    k = int(np.searchsorted(cum, BLOCK_QUANTILE * cum[-1]))
    return float(BLOCK_EDGES[min(k, BLOCK_EDGES.size - 1)])


def next_blocks(hist: list[float] | None, excess: np.ndarray, dt: float) -> list[float]:
    """The histogram after this snapshot: decayed, plus this snapshot's largest excess."""
    h = np.zeros(BLOCK_EDGES.size + 1) if not hist else np.asarray(hist, dtype=float) * 0.5 ** (dt / BLOCK_HALF_LIFE)
    top = float(np.nanmax(excess)) if np.isfinite(excess).any() else 0.0
    h[int(np.searchsorted(BLOCK_EDGES, top, side="right"))] += 1.0
    return np.round(h, 6).tolist()  # kept in the chain's state: six decimals are plenty for a count


def update(prev: ContractSeries, rate: np.ndarray, dt: np.ndarray, cfg: DetectorConfig) -> dict[str, np.ndarray]:
    """Next EW mean/variance, fed with the rate winsorised at mean + 4 sd (spikes do not teach the baseline)."""
    a = 1.0 - np.exp(-np.nan_to_num(dt) / VOLUME_TAU)
    mean, var, obs = prev["rate_mean"], prev["rate_var"], prev["rate_obs"]
    seen = np.isfinite(rate)
    first = seen & ~(obs >= 1)
    m, v = nz(mean), nz(var)
    cap = m + 4.0 * np.sqrt(np.fmax(v, 0.0)) + 1.0
    x = np.where(obs >= cfg.volume_warmup, np.fmin(rate, cap), rate)
    d = x - m
    new_mean = np.where(first, rate, np.where(seen, m + a * d, mean))
    new_var = np.where(first, 0.0, np.where(seen, (1 - a) * (v + a * d * d), var))
    return {"rate_mean": new_mean, "rate_var": new_var, "rate_obs": obs + seen}
