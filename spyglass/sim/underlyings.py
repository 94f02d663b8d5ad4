"""The live demo's underlyings: SPY, QQQ and IWM, each its own market with its own injected anomalies.

Spot, ATM vol, dividend yield, volume and open interest come from ``PROFILES``; QQQ and IWM
also trade with their own liquidity (wider, thinner, fewer strikes), so their chains look like
theirs rather than SPY's. Each underlying draws from its own seed, so their anomalies differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spyglass.sim.config import InjectionConfig, SessionHours, SimConfig


@dataclass(frozen=True)
class DemoUnderlying:
    symbol: str
    strike_step: float  # listed 0DTE strikes near the money
    own_liquidity: bool  # the profile's spreads, sizes and strike range (SPY's are the defaults)
    seed_offset: int  # added to the demo's seed: independent markets and injections


DEMO_UNDERLYINGS: tuple[DemoUnderlying, ...] = (
    DemoUnderlying("SPY", 1.0, False, 0),
    DemoUnderlying("QQQ", 1.0, True, 101),
    DemoUnderlying("IWM", 1.0, True, 202),
)
WARMUP_S = 15.0  # the first injections come within seconds: something to see at once


def demo_underlying(symbol: str) -> DemoUnderlying:
    for u in DEMO_UNDERLYINGS:
        if u.symbol == symbol.upper():
            return u
    raise ValueError(f"no demo preset for {symbol!r}: {', '.join(u.symbol for u in DEMO_UNDERLYINGS)}")


def demo_injection(rate_per_hour: float | None, enabled: bool = True) -> InjectionConfig:
    """Every anomaly type at ``rate_per_hour`` (None: the simulator's default rates), from ``WARMUP_S``."""
    if rate_per_hour is None:
        return InjectionConfig(enabled=enabled, warmup_s=WARMUP_S)
    return InjectionConfig(enabled=enabled, rates={t: rate_per_hour for t in InjectionConfig().rates},
                           warmup_s=WARMUP_S)


def live_config(symbol: str, hours: SessionHours, start: datetime, *, seed: int = 7,
                rate_per_hour: float | None = 30.0, interval_s: float = 1.0, inject: bool = True) -> SimConfig:
    """A live session of ``symbol`` from ``start`` (aware; normally now) within ``hours``."""
    u = demo_underlying(symbol)
    return SimConfig(underlying=u.symbol, hours=hours, start=start, interval_s=interval_s, seed=seed + u.seed_offset,
                     strike_step=u.strike_step, own_liquidity=u.own_liquidity,
                     injection=demo_injection(rate_per_hour, inject))
