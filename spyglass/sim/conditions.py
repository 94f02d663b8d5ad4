"""The mess of a real feed, as switchable conditions of a simulated day.

Each condition is a frozen dataclass; ``None`` on ``SimConfig`` switches it
off, and a day with every condition off is exactly the clean day the simulator
always made. Each condition draws from its own ``SeedSequence`` child
(``CHILD``), so switching one on or off leaves the others' draws alone.

- ``QuoteAges``: lines tick at their own rate (sizes flicker between price
  moves) and, with ``field``, every line carries a truthful ``quote_age_ms``.
- ``StaleBlocks``: adjacent near-the-money lines stop updating for minutes.
- ``FatFingers``: one absurd quote on one line for 1 to 3 snapshots.
- ``OneSidedPulls``: near-the-money bids vanish for a few seconds (unlabelled).
- ``Gap``: spot and the smile reprice at once, quotes catching up with a lag.
- ``TradeVolume``: interval volume as prints, with blocks, in an intraday U.
- ``SessionStart``: the opening burst, and a first snapshot a few seconds in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

import numpy as np

# SeedSequence children of the day's seed; 0-3 are the clean simulator's (market, quotes, volume, injections)
CHILD = {"ages": 4, "stale": 5, "fat_fingers": 6, "pulls": 7, "gap": 8, "trades": 9, "session_start": 10}

FAT_FINGER_KINDS = ("multiple", "decimal", "ask_zero", "swap", "one_line_iv")


def child_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one condition: child ``CHILD[name]`` of the day's SeedSequence."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CHILD[name],)))


def _check_range(name: str, lo_hi: tuple[float, float], minimum: float = 0.0) -> None:
    lo, hi = lo_hi
    if not (minimum <= lo <= hi):
        raise ValueError(f"{name} must be an increasing range >= {minimum}, got {lo_hi}")


@dataclass(frozen=True)
class QuoteAges:
    """Lines tick at their own rate; ``field`` adds ``quote_age_ms`` (False: a vendor that does not send it).

    The age is the time since the line's bid, ask or sizes last changed, plus a
    receive jitter drawn once per change, so it grows by exactly the interval
    while a line stands still.
    """

    field: bool = True
    jitter_ms: float = 30.0

    def __post_init__(self) -> None:
        if self.jitter_ms < 0:
            raise ValueError("jitter_ms must be >= 0")


@dataclass(frozen=True)
class StaleBlocks:
    """Blocks of adjacent near-the-money lines that stop updating while the market moves.

    ``near_strikes``: the block's centre is within this many strikes of the
    forward. ``legs``: probability of freezing both legs / calls only / puts
    only. A share ``deep_share`` of blocks holds until ``deep_material`` of its
    lines are material (the fair value left the frozen quote by a half-spread;
    pennies on the wings may never be), then ``deep_extra_s`` longer, within
    ``duration_s``.
    """

    rate_per_hour: float = 3.0
    strikes: tuple[int, int] = (3, 8)
    duration_s: tuple[float, float] = (60.0, 420.0)
    legs: Mapping[str, float] = field(default_factory=lambda: {"both": 0.6, "C": 0.2, "P": 0.2})
    near_strikes: int = 4
    deep_share: float = 0.0
    deep_material: float = 0.8
    deep_extra_s: tuple[float, float] = (5.0, 40.0)
    warmup_s: float = 60.0

    def __post_init__(self) -> None:
        if self.rate_per_hour < 0:
            raise ValueError("rate_per_hour must be >= 0")
        _check_range("strikes", self.strikes, 1)
        _check_range("duration_s", self.duration_s, 0)
        _check_range("deep_extra_s", self.deep_extra_s, 0)
        if set(self.legs) - {"both", "C", "P"} or not sum(self.legs.values()) > 0:
            raise ValueError("legs maps 'both', 'C', 'P' to weights with a positive sum")
        if not (0 <= self.deep_share <= 1 and 0 < self.deep_material <= 1):
            raise ValueError("deep_share must be in [0, 1] and deep_material in (0, 1]")


@dataclass(frozen=True)
class FatFingers:
    """One line, one absurd quote for 1 to 3 snapshots; labelled data_error/fat_finger."""

    rate_per_hour: float = 4.0
    kinds: tuple[str, ...] = FAT_FINGER_KINDS
    snapshots: tuple[int, int] = (1, 3)
    multiple: tuple[float, float] = (5.0, 15.0)  # kind "multiple": bid at this many times fair
    vol_points: tuple[float, float] = (30.0, 80.0)  # kind "one_line_iv"
    near_delta: tuple[float, float] = (0.05, 0.95)
    min_fair: float = 0.20
    warmup_s: float = 60.0

    def __post_init__(self) -> None:
        if self.rate_per_hour < 0:
            raise ValueError("rate_per_hour must be >= 0")
        bad = set(self.kinds) - set(FAT_FINGER_KINDS)
        if bad or not self.kinds:
            raise ValueError(f"kinds must be a non-empty subset of {FAT_FINGER_KINDS}, got {self.kinds}")
        _check_range("snapshots", self.snapshots, 1)
        _check_range("multiple", self.multiple, 1)
        _check_range("vol_points", self.vol_points, 0)


@dataclass(frozen=True)
class OneSidedPulls:
    """Near-the-money bids pulled for a few seconds: ordinary market behaviour, never labelled.

    ``rate_per_hour`` is for the whole chain; None takes the underlying's liquidity.
    """

    rate_per_hour: float | None = None
    duration_s: tuple[float, float] = (2.0, 8.0)
    near_strikes: int = 6

    def __post_init__(self) -> None:
        if self.rate_per_hour is not None and self.rate_per_hour < 0:
            raise ValueError("rate_per_hour must be >= 0")
        _check_range("duration_s", self.duration_s, 0)


@dataclass(frozen=True)
class Gap:
    """Once in the session spot jumps and the smile reprices: a chain-level iv_jump/smile_shift.

    ``direction`` +1 up, -1 down, 0 a seeded coin. Each line reprices after its
    own lag in ``lag_s``; until then it shows its last pre-jump quote. Trading
    picks up after the jump: ``volume_boost`` times the session's mean rate on
    top of the usual, decaying over ``volume_decay_s``.
    """

    at: time | str = time(10, 30)  # New York
    move: float = 0.008
    direction: int = 0
    vol_factor: float = 1.37
    skew_factor: float = 1.3
    lag_s: tuple[float, float] = (0.0, 3.0)
    volume_boost: float = 2.0
    volume_decay_s: float = 300.0

    def __post_init__(self) -> None:
        if isinstance(self.at, str):
            object.__setattr__(self, "at", time.fromisoformat(self.at))
        if not 0 < self.move < 0.5:
            raise ValueError("move must be in (0, 0.5)")
        if self.direction not in (-1, 0, 1):
            raise ValueError("direction must be -1, 0 or 1")
        if not self.vol_factor > 0 or not self.skew_factor > 0:
            raise ValueError("vol_factor and skew_factor must be > 0")
        _check_range("lag_s", self.lag_s, 0)


@dataclass(frozen=True)
class TradeVolume:
    """Interval volume as prints: a Poisson count per line, heavy-tailed sizes, now and then a block.

    Ordinary prints are ``min(floor(U ** (-1/size_tail)), size_cap)`` lots (most
    1 to 20). On the most active line a print is a block (log-uniform in
    ``block_size`` lots) with probability ``block_share`` (the underlying's
    liquidity when None), less on quieter lines in proportion to their activity.
    The intraday shape is ``level + open_weight*exp(-x/open_decay) +
    close_weight*exp(-(1-x)/close_decay)`` of the session fraction x, mean 1.
    """

    size_tail: float = 1.3
    size_cap: int = 99
    block_share: float | None = None
    block_size: tuple[int, int] = (100, 500)
    level: float = 0.55
    open_weight: float = 1.0
    open_decay: float = 0.10
    close_weight: float = 0.9
    close_decay: float = 0.07

    def __post_init__(self) -> None:
        if not self.size_tail > 0 or self.size_cap < 1:
            raise ValueError("size_tail must be > 0 and size_cap >= 1")
        if self.block_share is not None and not 0 <= self.block_share < 1:
            raise ValueError("block_share must be in [0, 1)")
        _check_range("block_size", self.block_size, 1)
        if min(self.level, self.open_weight, self.close_weight) < 0 or min(self.open_decay, self.close_decay) <= 0:
            raise ValueError("shape weights must be >= 0 and decays > 0")


@dataclass(frozen=True)
class SessionStart:
    """The open: ``burst`` times the session's mean rate on top of the usual, decaying over ``decay_s``.

    When the window starts at the open, the first snapshot is taken
    ``delay_s`` seconds after 09:30 (seeded) and carries the volume done by then.
    """

    burst: float = 5.0
    decay_s: float = 120.0
    delay_s: tuple[float, float] = (2.0, 8.0)

    def __post_init__(self) -> None:
        if self.burst < 0 or not self.decay_s > 0:
            raise ValueError("burst must be >= 0 and decay_s > 0")
        _check_range("delay_s", self.delay_s, 0)

    def first_delay_s(self, seed: int) -> float:
        """The seeded delay of the first snapshot, to the millisecond."""
        return round(float(child_rng(seed, "session_start").uniform(*self.delay_s)), 3)
