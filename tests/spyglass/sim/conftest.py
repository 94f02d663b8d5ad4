from __future__ import annotations

import datetime as dt

import pytest

from spyglass.sim import InjectionConfig, SimConfig

from tests.spyglass.simdays import MONDAY, run


@pytest.fixture(scope="session")
def clean_day():
    """A whole ordinary day at 10 s, no injections."""
    cfg = SimConfig(trading_date=MONDAY, seed=11, interval_s=10.0, injection=InjectionConfig(enabled=False))
    return run(cfg)


# ---------------------------------------------------------------- messy feeds
TUESDAY = dt.date(2026, 11, 24)


def messy_config(**kw) -> SimConfig:
    """A 40-minute window at 2 s with trade-like volume and nothing else, unless ``kw`` says so."""
    from spyglass.sim import TradeVolume

    base = dict(trading_date=TUESDAY, seed=21, start="10:00", end="10:40", interval_s=2.0,
                injection=InjectionConfig(enabled=False), trade_volume=TradeVolume())
    base.update(kw)
    return SimConfig(**base)


def with_twin(cfg: SimConfig, **off):
    """The day and its twin: the same seed with the conditions in ``off`` switched off."""
    import dataclasses

    sim, snaps = run(cfg)
    _, twin = run(dataclasses.replace(cfg, **off))
    return sim, snaps, twin


@pytest.fixture(scope="session")
def stale_pair():
    from spyglass.sim import QuoteAges, StaleBlocks

    cfg = messy_config(quote_ages=QuoteAges(), stale_blocks=StaleBlocks(rate_per_hour=15.0, deep_share=0.5))
    return with_twin(cfg, stale_blocks=None)


@pytest.fixture(scope="session")
def fat_pair():
    from spyglass.sim import FatFingers, QuoteAges

    cfg = messy_config(quote_ages=QuoteAges(), fat_fingers=FatFingers(rate_per_hour=45.0))
    return with_twin(cfg, fat_fingers=None)


@pytest.fixture(scope="session")
def gap_pair():
    from spyglass.sim import scenario_config

    cfg = scenario_config("gap", seed=5, start="10:25", end="10:40")
    return with_twin(cfg, gap=None)
