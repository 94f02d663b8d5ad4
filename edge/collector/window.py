"""Which options to stream within the market-data line budget, and how to move that window. Pure.

IBKR gives 100 concurrent lines by default. The underlying takes one, one stays spare (so a
re-centre never trips error 101), the rest go to calls and puts on the strikes nearest the
money. The window moves only when spot has drifted ``hysteresis`` strikes from its centre, and
each move is a list of cancels then subscribes that the caller spends under a request rate.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Line = tuple[str, float]  # (right, strike)


def option_budget(lines: int, spare: int = 1) -> int:
    """Option lines out of a total allowance: minus the underlying and ``spare``; never negative."""
    return max(0, lines - 1 - spare)


def atm_index(strikes: Sequence[float], spot: float) -> int:
    """Index of the listed strike nearest ``spot`` (ties go to the lower strike)."""
    if not strikes:
        raise ValueError("no strikes listed")
    i = bisect.bisect_left(strikes, spot)
    if i == 0:
        return 0
    if i == len(strikes):
        return len(strikes) - 1
    return i - 1 if spot - strikes[i - 1] <= strikes[i] - spot else i


def window_strikes(strikes: Sequence[float], centre: int, n: int) -> list[float]:
    """``n`` consecutive strikes around index ``centre``, shifted inwards at the edges of the listing."""
    n = min(n, len(strikes))
    lo = centre - (n - 1) // 2
    lo = max(0, min(lo, len(strikes) - n))
    return list(strikes[lo : lo + n])


def window(strikes: Sequence[float], spot: float, budget: int) -> list[Line]:
    """Calls and puts on the ``budget // 2`` strikes nearest the money (ordered from the money out).

    The order matters: when the gateway refuses lines (101), the far wings go first.
    """
    n = budget // 2
    chosen = window_strikes(strikes, atm_index(strikes, spot), n)
    chosen.sort(key=lambda k: (abs(k - spot), k))
    return [(r, k) for k in chosen for r in ("C", "P")]


def centre_of(lines: Sequence[Line]) -> float | None:
    ks = sorted({k for _, k in lines})
    return ks[(len(ks) - 1) // 2] if ks else None


def needs_recentre(strikes: Sequence[float], current: Sequence[Line], spot: float, hysteresis: int = 2) -> bool:
    """True once the strike nearest ``spot`` is ``hysteresis`` listed strikes from the window's centre."""
    c = centre_of(current)
    if c is None:
        return True
    try:
        ci = strikes.index(c)
    except ValueError:
        return True
    return abs(atm_index(strikes, spot) - ci) >= hysteresis


@dataclass(frozen=True)
class Move:
    cancel: list[Line]
    subscribe: list[Line]


def plan(current: Sequence[Line], desired: Sequence[Line]) -> Move:
    """Cancels (farthest from the new window first) then subscribes (nearest the money first)."""
    want = set(desired)
    have = set(current)
    return Move(cancel=[ln for ln in current if ln not in want][::-1],
                subscribe=[ln for ln in desired if ln not in have])


class RequestPacer:
    """Token bucket for client requests: IB allows 50 messages/s; we stay at ``rate`` (default 40).

    ``take(n)`` returns how many of ``n`` requests may go now.
    """

    def __init__(self, rate: float = 40.0, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self.clock = clock
        self.tokens = self.burst
        self._at = clock()

    def take(self, n: int) -> int:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self._at) * self.rate)
        self._at = now
        k = min(n, int(self.tokens + 1e-9))
        self.tokens -= k
        return k
