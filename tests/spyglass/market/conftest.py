from __future__ import annotations

import datetime as dt

import pytest

from spyglass.market import INJECTED_TYPES as ANOMALY_TYPES, InjectionConfig, SimConfig, simulate_day

MONDAY = dt.date(2026, 11, 23)


def run(cfg: SimConfig):
    sim = simulate_day(cfg)
    snaps = list(sim)
    return sim, snaps


@pytest.fixture(scope="session")
def clean_day():
    """A whole ordinary day at 10 s, no injections."""
    cfg = SimConfig(trading_date=MONDAY, seed=11, interval_s=10.0, injection=InjectionConfig(enabled=False))
    return run(cfg)


def busy_config(**kw) -> SimConfig:
    rates = {t: 36.0 for t in ANOMALY_TYPES}
    inj = InjectionConfig(rates=rates, warmup_s=20.0)
    base = dict(trading_date=MONDAY, seed=7, start="10:00", end="10:30", jumps_per_day=0.0, injection=inj)
    base.update(kw)
    return SimConfig(**base)


@pytest.fixture(scope="session")
def busy_window():
    """30 minutes at 1 s with ~18 injections of every type, and the same market without them."""
    cfg = busy_config()
    sim, snaps = run(cfg)
    _, base = run(busy_config(injection=InjectionConfig(enabled=False)))
    return sim, snaps, base
