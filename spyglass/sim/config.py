"""Configuration of a simulated 0DTE day and of the anomalies injected into it.

Everything has a default so that ``SimConfig()`` is a realistic SPY day today
(New York). Per-underlying levels (spot, ATM vol, volume, open interest) come
from ``PROFILES``; an unknown symbol gets generic levels and should be given a
``spot``. Each profile also has its own ``Liquidity`` (spreads, sizes, strike
range, one-sided lines, quote activity, blocks), used with
``own_liquidity=True``; otherwise every underlying trades like SPY.

The mess of a real feed (quote ages, stale blocks, fat fingers, one-sided
pulls, a gap, trade-like volume, the session start) is switched on per
condition (``spyglass.sim.conditions``); all off is the clean day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType

from spyglass.clock import NEW_YORK, session_close
from spyglass.contract import ANOMALY_TYPES
from spyglass.labels import DATA_ERROR_SUBTYPES
from spyglass.sim.conditions import (
    FatFingers,
    Gap,
    OneSidedPulls,
    QuoteAges,
    SessionStart,
    StaleBlocks,
    TradeVolume,
)


@dataclass(frozen=True)
class Liquidity:
    """How an underlying's 0DTE chain is quoted and traded. The defaults are SPY's, as measured."""

    spread_base: float = 0.01  # quoted width: max(1 tick, spread_base + spread_pct * premium)
    spread_pct: float = 0.015
    extra_tick_rate: float = 0.001  # per second: a line widens by a tick now and then...
    extra_tick_end: float = 0.025  # ...and narrows back at this rate
    size_far: float = 20.0  # displayed size: size_far + size_near * exp(-|ln K/S| / size_decay), lognormal
    size_near: float = 250.0
    size_decay: float = 0.006
    strike_range: float = 0.05  # listed strikes within this share of the opening spot
    no_bid_below_ticks: float = 0.0  # no market-maker bid on lines worth less than this many ticks
    pulls_per_hour: float = 40.0  # near-the-money bids pulled for a few seconds (OneSidedPulls)
    ticks_per_s: float = 4.0  # quote updates per second of an at-the-money line (QuoteAges)
    ticks_per_s_far: float = 0.05  # ...and of a far out-of-the-money line
    block_share: float = 0.003  # chance a print on the most active line is a block (TradeVolume)


SPY_LIQUIDITY = Liquidity()


@dataclass(frozen=True)
class UnderlyingProfile:
    spot: float
    atm_vol: float  # VIX1D-like ATM level
    dividend_yield: float
    daily_volume: float  # contracts per day over the simulated chain
    open_interest: float  # median open interest at the money
    liquidity: Liquidity = SPY_LIQUIDITY


PROFILES: Mapping[str, UnderlyingProfile] = MappingProxyType(
    {
        "SPY": UnderlyingProfile(600.0, 0.15, 0.012, 3.0e6, 20_000),
        # QQQ 0DTE: a tick or two wider, thinner books, more lines without a bid, fewer strikes, rarer blocks
        "QQQ": UnderlyingProfile(
            520.0, 0.19, 0.006, 1.5e6, 12_000,
            Liquidity(spread_base=0.015, spread_pct=0.02, extra_tick_rate=0.004, size_far=6.0, size_near=70.0,
                      size_decay=0.005, strike_range=0.04, no_bid_below_ticks=4.0, pulls_per_hour=240.0,
                      ticks_per_s=2.0, ticks_per_s_far=0.02, block_share=0.0015),
        ),
        "IWM": UnderlyingProfile(
            225.0, 0.21, 0.011, 3.0e5, 5_000,
            Liquidity(spread_base=0.02, spread_pct=0.03, extra_tick_rate=0.006, size_far=4.0, size_near=40.0,
                      strike_range=0.05, no_bid_below_ticks=2.0, pulls_per_hour=200.0, ticks_per_s=1.0,
                      ticks_per_s_far=0.01, block_share=0.001),
        ),
    }
)
GENERIC_PROFILE = UnderlyingProfile(100.0, 0.20, 0.0, 2.0e5, 2_000)

# the types the schedule knows (every anomaly/1 type)
INJECTED_TYPES = ANOMALY_TYPES
# ~15 of each type in a 6.5 h day
DEFAULT_RATE_PER_HOUR = 2.3
DEFAULT_RATES: Mapping[str, float] = MappingProxyType({t: DEFAULT_RATE_PER_HOUR for t in INJECTED_TYPES})


@dataclass(frozen=True)
class InjectionConfig:
    """Which anomalies are injected, how often and for how long.

    ``rates`` are expected injections per hour of simulated window, per type
    (a missing type means 0). The count per type is ``rate * hours``, rounded
    stochastically; onsets are uniform after ``warmup_s``. Durations are in
    seconds and become at least one snapshot. ``data_error`` injections pick a
    subtype uniformly from ``data_error_subtypes``.
    """

    enabled: bool = True
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    data_error_subtypes: tuple[str, ...] = DATA_ERROR_SUBTYPES
    warmup_s: float = 60.0
    min_premium: float = 0.10  # price anomalies only on contracts worth at least this
    min_edge: float = 0.05  # dollars per share beyond the tradeable quote
    duration_s: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "mispricing": (5.0, 60.0),
            "parity": (5.0, 60.0),
            "arbitrage": (3.0, 30.0),
            "spread_blowout": (5.0, 60.0),
            "iv_jump": (15.0, 60.0),  # hold at the new level, then a slow decay back
            "data_error": (1.0, 5.0),  # contract-level subtypes
        }
    )
    iv_jump_decay_s: float = 20.0
    iv_jump_vol_points: tuple[float, float] = (3.0, 8.0)
    volume_spike_multiple: tuple[float, float] = (20.0, 100.0)
    volume_spike_min: int = 300  # contracts in the interval, whatever the baseline
    volume_spike_snapshots: tuple[int, int] = (1, 3)
    spread_blowout_factor: tuple[float, float] = (4.0, 10.0)
    volume_spike_min_activity: float = 0.1  # only on lines expected to trade at least this share of the busiest
    # smaller sizes: a mispricing's edge beyond the opposite side, drawn in whole ticks (None: several half-spreads)
    mispricing_edge_ticks: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(INJECTED_TYPES)
        if unknown:
            raise ValueError(f"unknown anomaly types in rates: {sorted(unknown)}")
        bad = set(self.data_error_subtypes) - set(DATA_ERROR_SUBTYPES)
        if bad:
            raise ValueError(f"unknown data_error subtypes: {sorted(bad)}")
        if any(r < 0 for r in self.rates.values()):
            raise ValueError("rates must be >= 0")
        e = self.mispricing_edge_ticks
        if e is not None and not (1 <= e[0] <= e[1]):
            raise ValueError(f"mispricing_edge_ticks must be an increasing range of ticks >= 1, got {e}")


@dataclass(frozen=True)
class SessionHours:
    """A session's open and close (aware datetimes): the exchange's, or a simulated one.

    ``simulated`` marks hours the exchange did not publish (a demo out of hours, a day the
    exchange is shut): the snapshots' ``expiry_close`` is then the simulated close, so time to
    expiry is ``close - ts`` whatever the calendar says.
    """

    open: datetime
    close: datetime
    simulated: bool = False

    def __post_init__(self) -> None:
        if self.open.tzinfo is None or self.close.tzinfo is None:
            raise ValueError("session hours must be timezone-aware")
        if not self.open < self.close:
            raise ValueError(f"session open {self.open.isoformat()} is not before its close {self.close.isoformat()}")


@dataclass(frozen=True)
class SimConfig:
    """A simulated 0DTE day. ``None`` means: the underlying's profile / the session's value."""

    underlying: str = "SPY"
    trading_date: date | str | None = None  # default: today in New York (simulated 09:30-16:00 if the exchange is shut)
    start: time | str | datetime = time(9, 30)  # New York wall clock, or an aware instant (a live session: now)
    end: time | str | datetime | None = None  # New York wall clock or an instant; default the session close
    hours: SessionHours | None = None  # the session's open and close; default the exchange calendar's
    interval_s: float = 1.0
    seed: int = 0
    spot: float | None = None
    atm_vol: float | None = None
    rate: float = 0.04
    dividend_yield: float | None = None
    strike_step: float = 1.0
    strike_range: float = 0.05  # listed strikes within +-5% of the opening spot
    tick: float = 0.01
    rr25: float = -0.03  # 25-delta call IV minus put IV, vol units
    rr25_late_third_thursday: float = -0.17  # reached 15 minutes before the close
    rr25_late_friday: float = -0.06
    curvature: float = 0.05
    smile_drift: float = 0.06  # size of the smooth intraday wander of ATM level and skew
    jumps_per_day: float = 2.0
    jump_size: float = 0.0015  # std of a spot jump, log terms
    daily_volume: float | None = None
    volume_dispersion: float = 1.0  # negative-binomial size parameter (smaller: burstier)
    open_interest: float | None = None
    calendar: str = "XNYS"
    injection: InjectionConfig = field(default_factory=InjectionConfig)
    # the mess of a real feed; None is off (see spyglass.sim.conditions)
    own_liquidity: bool = False  # the underlying's own Liquidity (spreads, sizes, strike range...) instead of SPY's
    quote_ages: QuoteAges | None = None
    stale_blocks: StaleBlocks | None = None
    fat_fingers: FatFingers | None = None
    one_sided_pulls: OneSidedPulls | None = None
    gap: Gap | None = None
    trade_volume: TradeVolume | None = None
    session_start: SessionStart | None = None
    omit_expiry_close: bool = False  # leave expiry_close out of the snapshots (the consumer finds the close)

    def __post_init__(self) -> None:
        if isinstance(self.trading_date, str):
            object.__setattr__(self, "trading_date", date.fromisoformat(self.trading_date))
        if not self.underlying or not self.underlying.replace(".", "").isalnum():
            raise ValueError(f"bad underlying {self.underlying!r}")
        if not self.interval_s > 0:
            raise ValueError("interval_s must be > 0")
        if not (0 < self.strike_range < 1):
            raise ValueError("strike_range must be in (0, 1)")
        if not self.tick > 0 or not self.strike_step > 0:
            raise ValueError("tick and strike_step must be > 0")

    @property
    def profile(self) -> UnderlyingProfile:
        return PROFILES.get(self.underlying.upper(), GENERIC_PROFILE)

    @property
    def liquidity(self) -> Liquidity:
        return self.profile.liquidity if self.own_liquidity else SPY_LIQUIDITY

    @property
    def messy(self) -> bool:
        """True when any condition of a real feed is switched on."""
        return self.own_liquidity or self.omit_expiry_close or any(
            getattr(self, k) is not None
            for k in ("quote_ages", "stale_blocks", "fat_fingers", "one_sided_pulls", "gap", "trade_volume",
                      "session_start")
        )


def _instant(value: time | str | datetime, day: date) -> datetime:
    """A config's start/end as a UTC instant: an aware datetime as is, a time of day on ``day`` in New York."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} needs a UTC offset (or give a New York time of day)")
        return value.astimezone(timezone.utc)
    t = value if isinstance(value, time) else time.fromisoformat(value)
    return datetime.combine(day, t, NEW_YORK).astimezone(timezone.utc)


def today_new_york() -> date:
    return datetime.now(NEW_YORK).date()


def regular_hours(day: date, calendar: str = "XNYS") -> SessionHours:
    """``day``'s session: the exchange's (early closes included), or 09:30-16:00 New York simulated on a shut day."""
    open_ = datetime.combine(day, time(9, 30), NEW_YORK).astimezone(timezone.utc)
    try:
        return SessionHours(open_, session_close(day, calendar))
    except ValueError:
        close = datetime.combine(day, time(16, 0), NEW_YORK).astimezone(timezone.utc)
        return SessionHours(open_, close, simulated=True)


def last_session_on_or_before(day: date, calendar: str = "XNYS") -> date:
    for back in range(0, 15):
        d = day - timedelta(days=back)
        try:
            session_close(d, calendar)
            return d
        except ValueError:
            continue
    raise ValueError(f"no {calendar} session in the two weeks up to {day}")


@dataclass(frozen=True)
class Session:
    """The resolved clock of a simulated day (all datetimes UTC)."""

    trading_date: date
    open: datetime  # regular open (09:30 New York)
    close: datetime  # the expiry's close: 16:00 New York, 13:00 on early-close days
    start: datetime  # first snapshot
    end: datetime  # exclusive
    interval: timedelta
    n_snapshots: int
    simulated: bool = False  # hours the exchange did not publish (see SessionHours)

    def ts(self, seq: int) -> datetime:
        return self.start + seq * self.interval

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def session_seconds(self) -> float:
        return (self.close - self.open).total_seconds()


def resolve_session(cfg: SimConfig) -> Session:
    """Trading date, expiry close and snapshot clock for ``cfg``.

    ValueError if an explicit ``trading_date`` is not a session and no ``hours`` are given.
    """
    if cfg.hours is not None:
        day = cfg.trading_date or cfg.hours.open.astimezone(NEW_YORK).date()
        hours = cfg.hours
    elif cfg.trading_date is not None:
        day = cfg.trading_date
        close = session_close(day, cfg.calendar)  # raises for holidays and weekends
        hours = SessionHours(datetime.combine(day, time(9, 30), NEW_YORK).astimezone(timezone.utc), close)
    else:
        day = today_new_york()
        hours = regular_hours(day, cfg.calendar)
    open_, close = hours.open.astimezone(timezone.utc), hours.close.astimezone(timezone.utc)
    start = _instant(cfg.start, day)
    if cfg.session_start is not None and start <= open_:  # the first snapshot comes a few seconds after the open
        start = open_ + timedelta(seconds=cfg.session_start.first_delay_s(cfg.seed))
    end = close if cfg.end is None else min(_instant(cfg.end, day), close)
    if start >= end:
        raise ValueError(f"start {start.isoformat()} is not before end {end.isoformat()} (close {close.isoformat()})")
    interval = timedelta(microseconds=round(cfg.interval_s * 1e6))
    if interval <= timedelta(0):
        raise ValueError("interval_s is below a microsecond")
    n = math.ceil((end - start) / interval)
    return Session(day, open_, close, start, end, interval, n, hours.simulated)
