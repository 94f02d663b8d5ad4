"""Risk limits, checked in a fixed order before any order is sent. Pure: the caller passes the clock.

The first failing check is the reason recorded in the audit log. Daily loss is
bounded by construction: every position is a defined-risk combo held to the
0DTE expiry, so today's loss cannot exceed the sum of today's ``max_loss``;
a new plan is refused when that sum would pass ``max_daily_loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from edge.bot.rules import Plan
from edge.bot.settings import RiskLimits
from spyglass.clock import NEW_YORK, is_market_open, session_close
from spyglass.contract import Anomaly

FUTURE_SKEW = timedelta(seconds=5)  # a signal stamped later than this ahead of our clock is suspect


@dataclass(frozen=True)
class Book:
    """What is already committed today."""

    open_positions: int
    committed_loss: float  # sum of max_loss x quantity of today's positions


def close_of(day: date) -> datetime | None:
    try:
        return session_close(day)
    except ValueError:
        return None


def check_signal(signal: Anomaly, now: datetime, limits: RiskLimits, kill: bool) -> str | None:
    """Reasons that make any order for this signal wrong, before a plan is made (cheap checks first)."""
    if kill:
        return "kill switch is on"
    age = (now - signal.ts).total_seconds()
    if age > limits.signal_ttl_seconds:
        return f"stale: {age:.1f} s old, TTL {limits.signal_ttl_seconds:g} s"
    if signal.ts - now > FUTURE_SKEW:
        return f"signal time {signal.ts.isoformat()} is ahead of the clock"
    today = now.astimezone(NEW_YORK).date()
    if signal.expiry != today:
        return f"expiry {signal.expiry.isoformat()} is not today ({today.isoformat()})"
    if not is_market_open(now):
        return "market is closed"
    close = close_of(today)
    if close is not None and now >= close - timedelta(minutes=limits.no_new_minutes_before_close):
        return f"inside the last {limits.no_new_minutes_before_close:g} minutes before the close ({close.isoformat()})"
    return None


def check_plan(plan: Plan, quantity: int, limits: RiskLimits, book: Book) -> str | None:
    """Reasons that make this particular order too large."""
    if quantity > limits.max_contracts_per_order:
        return f"{quantity} contracts per order > limit {limits.max_contracts_per_order}"
    if book.open_positions >= limits.max_open_positions:
        return f"{book.open_positions} open positions, limit {limits.max_open_positions}"
    risk = max(plan.max_loss, 0.0) * quantity
    if book.committed_loss + risk > limits.max_daily_loss:
        return (f"worst-case loss {book.committed_loss + risk:.2f} would pass the daily limit "
                f"{limits.max_daily_loss:.2f}")
    return None


def kill_switch(setting: bool, exists: Callable[[], bool]) -> bool:
    """On when the setting says so or the kill file exists (touch it to stop new orders at once)."""
    return setting or exists()
