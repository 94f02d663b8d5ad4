"""Named simulated days built from the conditions of a messy feed: for the CLI, the tests and the detector gates.

Every scenario takes a seed and a trading date (default: a fixed ordinary
Tuesday, 2026-11-24, so a seed is the same day wherever it runs) and has
hours and an interval chosen to simulate in a few seconds. "Natural" below is
what any real day has: trade-like volume with blocks, the session start,
pulled bids near the money and ticking quotes with ``quote_age_ms``.

``labelled`` is False for clean days: nothing is injected, so every anomaly
reported on them is a false alarm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from spyglass.clock import NEW_YORK, session_close
from spyglass.sim.conditions import (
    FatFingers,
    Gap,
    OneSidedPulls,
    QuoteAges,
    SessionStart,
    StaleBlocks,
    TradeVolume,
)
from spyglass.sim.config import DEFAULT_RATES, InjectionConfig, SimConfig

DEFAULT_DATE = date(2026, 11, 24)
# with trade-like volume, an ordinary block is 100-500 lots in one print and two can land in one interval: an
# injected volume spike is at least three of the largest, so it is unusual volume and not one or two more blocks
# (smaller ones: the small_edges scenario)
USUAL = InjectionConfig(volume_spike_min=1500)
EARLY_CLOSE_DATE = date(2026, 11, 27)  # the day after Thanksgiving: 13:00 close
OFF = InjectionConfig(enabled=False)


def natural(age_field: bool = True) -> dict:
    """What every real day has: trades with blocks, the open's burst, pulled bids, ticking quotes."""
    return dict(quote_ages=QuoteAges(field=age_field), one_sided_pulls=OneSidedPulls(),
                trade_volume=TradeVolume(), session_start=SessionStart())


def _clean(age_field: bool = True) -> dict:
    return dict(interval_s=2.0, injection=OFF, **natural(age_field))


def _stale(age_field: bool = True) -> dict:
    return dict(start="10:00", end="12:00", interval_s=2.0, injection=OFF,
                stale_blocks=StaleBlocks(rate_per_hour=6.0, deep_share=0.3), **natural(age_field))


def _gap(with_gap: bool) -> dict:
    return dict(start="10:00", end="11:00", interval_s=1.0, injection=OFF,
                gap=Gap(at=time(10, 30)) if with_gap else None, **natural())


def _small_edges() -> dict:
    inj = InjectionConfig(
        rates={"mispricing": 12.0, "volume_spike": 12.0}, min_edge=0.02, mispricing_edge_ticks=(2, 6),
        volume_spike_multiple=(8.0, 24.0), volume_spike_min=0, volume_spike_min_activity=0.3,
    )
    return dict(start="10:00", end="12:00", interval_s=2.0, injection=inj, **natural())


def _messy() -> dict:
    return dict(start="09:30", end="12:30", interval_s=2.0,
                injection=dataclasses.replace(USUAL, rates=dict(DEFAULT_RATES)),
                stale_blocks=StaleBlocks(rate_per_hour=3.0, deep_share=0.3), fat_fingers=FatFingers(),
                gap=Gap(at=time(11, 0)), **natural())


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    settings: Callable[[], dict]
    labelled: bool = True
    default_date: date = DEFAULT_DATE


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("clean", "a whole ordinary day, natural mess only, nothing injected", _clean, False),
        Scenario("clean_no_age", "the clean day from a vendor that sends no quote_age_ms",
                 lambda: _clean(False), False),
        Scenario("stale", "10:00-12:00, stale blocks near the money (a third deep), with quote ages", _stale),
        Scenario("stale_no_age", "the stale day without quote_age_ms", lambda: _stale(False)),
        Scenario("fat_finger", "10:00-12:00, fat-finger quotes on one line at a time",
                 lambda: dict(start="10:00", end="12:00", interval_s=2.0, injection=OFF,
                              fat_fingers=FatFingers(rate_per_hour=12.0), **natural())),
        Scenario("gap", "10:00-11:00 at 1 s: a 0.8% gap at 10:30, ATM vol x1.37, quotes lagging 0-3 s",
                 lambda: _gap(True)),
        Scenario("gap_twin", "the gap day's seed without the gap", lambda: _gap(False), False),
        Scenario("early_close", "the 13:00 close after Thanksgiving, expiry_close omitted, usual injections",
                 lambda: dict(interval_s=2.0, omit_expiry_close=True, injection=USUAL, **natural()), True,
                 EARLY_CLOSE_DATE),
        Scenario("qqq", "a QQQ day with its own liquidity, usual injections",
                 lambda: dict(underlying="QQQ", own_liquidity=True, interval_s=2.0, injection=USUAL, **natural())),
        Scenario("session_start", "09:30-10:00: the opening burst, first snapshot a few seconds in",
                 lambda: dict(start="09:30", end="10:00", interval_s=2.0, injection=OFF, **natural()), False),
        Scenario("messy", "09:30-12:30: everything at once (stale, fat fingers, a gap at 11:00) "
                          "plus the usual injections", _messy),
        Scenario("small_edges", "10:00-12:00: mispricings 2-6 ticks beyond the quote, volume spikes 8-24x",
                 _small_edges),
    )
}
CLEAN_SCENARIOS = tuple(n for n, s in SCENARIOS.items() if not s.labelled)


def scenario_config(name: str, seed: int = 0, trading_date: date | str | None = None, *,
                    age_field: bool | None = None, **overrides) -> SimConfig:
    """The ``SimConfig`` of scenario ``name``; ``overrides`` replace any of its fields (e.g. ``end``).

    ``age_field=False`` keeps the quote activity but drops ``quote_age_ms``.
    """
    try:
        sc = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    day = sc.default_date if trading_date is None else trading_date
    if isinstance(day, str):
        day = date.fromisoformat(day)
    if name == "early_close" and session_close(day).astimezone(NEW_YORK).time() >= time(16, 0):
        raise ValueError(f"{day.isoformat()} closes at 16:00: early_close needs an early-close day, "
                         f"e.g. {EARLY_CLOSE_DATE.isoformat()}")
    cfg = SimConfig(trading_date=day, seed=seed, **sc.settings())
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    if age_field is not None and cfg.quote_ages is not None:
        cfg = dataclasses.replace(cfg, quote_ages=dataclasses.replace(cfg.quote_ages, field=age_field))
    return cfg
