"""volume_spike: interval volume far above the contract's own baseline.

Interval volume is the difference of cumulative volume between consecutive
snapshots, turned into a rate per second so that irregular spacing is fair.
The baseline is an exponentially weighted mean and variance of that rate per
contract (time constant ``VOLUME_TAU`` seconds), fed with winsorised values so
a spike does not become its own baseline. Until a contract has
``volume_warmup`` observations its baseline borrows from nearby strikes of
the same right. The first snapshot of a day has no interval and never spikes.

Fires when the interval volume is at least ``volume_min_interval`` contracts,
at least ``volume_ratio`` x the baseline rate, and ``volume_z`` EW standard
deviations above it. Score: the ratio. Severity: ratio >= 50 high, >= 25
medium. Volume on IBKR is aggregated: this says "unusual volume", not "sweep".
"""

from __future__ import annotations

import math

import numpy as np

from spyglass.analytics.nan import nz
from spyglass.contract import Chain
from spyglass.config import DetectorConfig
from spyglass.detect.neighbours import neighbour_median
from spyglass.detect.finding import Finding, contract_label, r4, severity_from
from spyglass.detect.state import ContractSeries

VOLUME_TAU = 300.0
RATE_FLOOR = 0.05  # contracts per second: quiet contracts are not infinitely sensitive


def interval_rate(chain: Chain, prev: ContractSeries, ts_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(volume per second, seconds) since each line's volume was last seen: a line that was frozen or bad
    for a while measures its rate over the whole gap, not over the last interval."""
    with np.errstate(invalid="ignore"):
        inc = chain.volume - prev["volume"]
        interval = ts_s - prev["volume_ts"]
        ok = (inc >= 0) & (interval > 0)
        return np.where(ok, inc / np.where(ok, interval, 1.0), np.nan), np.where(ok, interval, np.nan)


def baseline(chain: Chain, prev: ContractSeries, cfg: DetectorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(mean rate, std) per contract; warm-up contracts borrow the neighbourhood median."""
    mean = prev["rate_mean"].copy()
    std = np.sqrt(np.fmax(prev["rate_var"], 0.0))
    cold = ~(prev["rate_obs"] >= cfg.volume_warmup)
    if cold.any():
        neighbour = nz(neighbour_median(chain, np.where(prev["rate_obs"] >= 1, mean, np.nan), 3, True))
        mean = np.where(cold, np.fmax(nz(mean), neighbour), mean)
        std = np.where(cold, np.fmax(nz(std), mean), std)
    return np.fmax(nz(mean), RATE_FLOOR), np.fmax(nz(std), RATE_FLOOR)


def detect(chain: Chain, rate: np.ndarray, dt: np.ndarray, mean: np.ndarray, std: np.ndarray, clean: np.ndarray,
           cfg: DetectorConfig) -> list[Finding]:
    with np.errstate(invalid="ignore"):
        inc = rate * dt
        ratio = rate / mean
        z = (rate - mean) / std
        hit = clean & (inc >= cfg.volume_min_interval) & (ratio >= cfg.volume_ratio) & (z >= cfg.volume_z)
    out = []
    for i in np.flatnonzero(hit):
        name = contract_label(bool(chain.is_call[i]), float(chain.strike[i]))
        oi = chain.open_interest[i]
        oi_txt = f"; open interest {oi:,.0f} (last night's)" if math.isfinite(oi) else ""
        summary = (f"{name}: {inc[i]:,.0f} contracts traded in {dt[i]:.0f} s, {ratio[i]:.0f}x its usual "
                   f"{mean[i] * dt[i]:,.1f} per {dt[i]:.0f} s ({z[i]:.0f} sd){oi_txt}")
        out.append(Finding(
            "volume_spike", "C" if chain.is_call[i] else "P", float(chain.strike[i]), float(ratio[i]),
            severity_from(float(ratio[i]), 25.0, 50.0), "volume_spike.rate_vs_baseline", summary,
            numbers={"interval_volume": r4(inc[i]), "interval_seconds": r4(dt[i]), "baseline_per_second": r4(mean[i]),
                     "ratio": r4(ratio[i]), "z": r4(z[i]), "cumulative_volume": r4(chain.volume[i]),
                     "open_interest": r4(oi)},
        ))
    return out


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
