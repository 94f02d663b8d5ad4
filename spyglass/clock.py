"""Exchange time: the expiry's close and time to expiry in years.

The close comes from a maintained exchange calendar (``exchange-calendars``),
so early closes (e.g. the day after Thanksgiving, 13:00 New York) are right
without a hand-kept holiday list. The calendar is imported lazily: snapshots
that carry ``expiry_close`` never pay its ~0.7 s import.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

SECONDS_PER_YEAR = 365.0 * 86400.0
NEW_YORK = ZoneInfo("America/New_York")


@lru_cache(maxsize=4)
def _calendar(name: str):  # noqa: ANN202 - exchange_calendars type
    import exchange_calendars as xc

    return xc.get_calendar(name)


@lru_cache(maxsize=256)
def session_close(day: date, calendar: str = "XNYS") -> datetime:
    """UTC close of ``day``'s regular session; ValueError if the exchange is shut that day."""
    import pandas as pd

    cal = _calendar(calendar)
    label = pd.Timestamp(day)
    if not cal.is_session(label):
        raise ValueError(f"{day.isoformat()} is not a {calendar} trading session")
    return cal.session_close(label).to_pydatetime().astimezone(timezone.utc)


@lru_cache(maxsize=256)
def session_open(day: date, calendar: str = "XNYS") -> datetime:
    import pandas as pd

    cal = _calendar(calendar)
    return cal.session_open(pd.Timestamp(day)).to_pydatetime().astimezone(timezone.utc)


def is_market_open(ts: datetime, calendar: str = "XNYS") -> bool:
    day = ts.astimezone(NEW_YORK).date()
    try:
        return session_open(day, calendar) <= ts < session_close(day, calendar)
    except ValueError:
        return False


def years_between(start: datetime, end: datetime) -> float:
    """Calendar time in years (365 days) to the second; negative once ``end`` has passed."""
    return (end - start).total_seconds() / SECONDS_PER_YEAR


def time_to_expiry(ts: datetime, close: datetime) -> float:
    return years_between(ts, close)
