"""Simulated days shared by the simulator's and the evaluation's tests."""

from __future__ import annotations

import datetime as dt

from spyglass.sim import INJECTED_TYPES as ANOMALY_TYPES, InjectionConfig, SimConfig, simulate_day

MONDAY = dt.date(2026, 11, 23)


def run(cfg: SimConfig):
    sim = simulate_day(cfg)
    snaps = list(sim)
    return sim, snaps


def busy_config(**kw) -> SimConfig:
    rates = {t: 36.0 for t in ANOMALY_TYPES}
    inj = InjectionConfig(rates=rates, warmup_s=20.0)
    base = dict(trading_date=MONDAY, seed=7, start="10:00", end="10:30", jumps_per_day=0.0, injection=inj)
    base.update(kw)
    return SimConfig(**base)
