"""Synthetic chains with known truth, for unit tests of the analytics and the rules.

Independent of the market simulator on purpose: rules are tested against a
chain whose fair values, smile and forward are known exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from spyglass.analytics.black import black_price
from spyglass.clock import SECONDS_PER_YEAR
from spyglass.contract import Snapshot, iso_ms

CLOSE = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)  # 16:00 New York


def true_vol(z: np.ndarray, atm: float = 0.15) -> np.ndarray:
    """A bounded put-skewed smile in standardised moneyness."""
    return atm * (1 - 0.22 * np.tanh(z / 2) + 0.02 * z * z / (1 + z * z / 9))


@dataclass
class ChainKit:
    spot: float = 600.0
    rate: float = 0.04
    atm: float = 0.15
    width: int = 30  # strikes either side of the money
    seed: int = 1
    underlying: str = "SPY"
    oi_scale: float = 20000.0
    put_oi_ratio: float = 1.5  # SPY carries more put than call open interest
    volume: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.strikes = np.arange(round(self.spot) - self.width, round(self.spot) + self.width + 1, 1.0)
        self.volume = np.zeros(2 * self.strikes.size)

    @property
    def n(self) -> int:
        return 2 * self.strikes.size

    def arrays(self, ts: datetime):
        t = (CLOSE - ts).total_seconds() / SECONDS_PER_YEAR
        fwd = self.spot * math.exp(self.rate * t)
        k = np.r_[self.strikes, self.strikes]
        call = np.r_[np.ones(self.strikes.size, bool), np.zeros(self.strikes.size, bool)]
        z = np.log(k / fwd) / (self.atm * math.sqrt(t))
        vol = true_vol(z, self.atm)
        n = k.size
        fair = black_price(np.full(n, fwd), k, np.full(n, t), np.full(n, self.rate), vol, call)
        return t, fwd, k, call, vol, fair

    def snapshot(self, ts: datetime, *, mutate=None, volume_add: dict[int, float] | None = None,
                 quiet: bool = False) -> Snapshot:
        """Quotes straddle fair value (1-2 ticks near the money, wider with premium), rounded outward."""
        t, fwd, k, call, vol, fair = self.arrays(ts)
        half = np.maximum(0.005, 0.005 + 0.0075 * fair)
        mid = fair + self.rng.uniform(-0.3, 0.3, k.size) * half
        bid = np.floor((mid - half) * 100 + 1e-9) / 100
        ask = np.maximum(np.ceil((mid + half) * 100 - 1e-9) / 100, 0.01)
        bid = np.where(bid > 0, bid, np.nan)
        if not quiet:
            self.volume = self.volume + self.rng.poisson(4 * np.exp(-np.abs(k - self.spot) / 5))
        vol_now = self.volume.copy()
        for i, extra in (volume_add or {}).items():
            self.volume[i] += extra
            vol_now[i] += extra
        quotes = {"bid": bid, "ask": ask, "age": np.full(k.size, np.nan)}  # age: quote_age_ms, NaN = not sent
        if mutate is not None:
            mutate(quotes, k, call, fair)
        oi = np.round(self.oi_scale * np.exp(-np.abs(k - self.spot) / 8) * np.where(call, 1.0, self.put_oi_ratio))
        rows = [
            {"right": "C" if c else "P", "strike": float(kk), "bid": _j(b), "ask": _j(a), "last": None,
             "volume": int(v), "open_interest": int(o), **({} if age != age else {"quote_age_ms": float(age)})}
            for c, kk, b, a, v, o, age in zip(call, k, quotes["bid"], quotes["ask"], vol_now, oi, quotes["age"])
        ]
        return Snapshot.from_dict({
            "schema": "chain-snapshot/1", "underlying": self.underlying, "ts": iso_ms(ts), "spot": self.spot,
            "expiry": "2026-11-24", "expiry_close": iso_ms(CLOSE), "rate": self.rate, "contracts": rows,
        })

    def index(self, right: str, strike: float) -> int:
        j = int(np.flatnonzero(self.strikes == strike)[0])
        return j if right == "C" else j + self.strikes.size

    def stream(self, start: datetime, seconds: int, events: dict[int, dict] | None = None, drift: float = 0.0):
        """One snapshot a second; ``events[s]`` are keyword arguments for ``snapshot`` at second s."""
        for s in range(seconds):
            self.spot *= math.exp(drift * self.rng.standard_normal())
            yield self.snapshot(start + timedelta(seconds=s), **(events or {}).get(s, {}))


def _j(x: float) -> float | None:
    return None if x != x else float(x)


T0 = datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)  # 12:00 New York, four hours to the close
