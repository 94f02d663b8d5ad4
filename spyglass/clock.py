"""Exchange time: the expiry's close and time to expiry in years.

The close comes from a maintained exchange calendar (``exchange-calendars``),
so early closes (e.g. the day after Thanksgiving, 13:00 New York) are right
without a hand-kept holiday list. Importing it costs ~0.7 s (pandas), so each
year's session opens and closes are computed once and kept in a small JSON
file (``$SPYGLASS_CACHE_DIR``, default ``~/.cache/spyglass``) keyed by the
library's version: fresh processes read that instead.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

SECONDS_PER_YEAR = 365.0 * 86400.0
NEW_YORK = ZoneInfo("America/New_York")
# the environment variable that shifts the Functions app's clock (demos, replays, tests): its clock minus
# real time, in seconds; the devstack and the tests set it, functions/settings.py reads it
CLOCK_SETTING = "SPYGLASS_CLOCK_OFFSET_S"


def cache_dir() -> Path:
    return Path(os.environ.get("SPYGLASS_CACHE_DIR") or Path.home() / ".cache" / "spyglass")


@lru_cache(maxsize=16)
def _sessions(calendar: str, year: int) -> dict[str, tuple[str, str]]:
    """{YYYY-MM-DD: (open ISO, close ISO)} for one calendar year."""
    path = cache_dir() / f"sessions-{calendar}-{year}-xc{version('exchange-calendars')}.json"
    try:
        return {k: tuple(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError):
        pass
    table = _compute_sessions(calendar, year)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as fh:
            json.dump(table, fh)
        os.replace(fh.name, path)  # atomic: concurrent processes never read half a file
    except OSError:
        pass  # a read-only disk only costs the next process the import
    return table


def _compute_sessions(calendar: str, year: int) -> dict[str, tuple[str, str]]:
    import exchange_calendars as xc
    import pandas as pd

    cal = xc.get_calendar(calendar)
    start = max(pd.Timestamp(date(year, 1, 1)), cal.first_session)
    end = min(pd.Timestamp(date(year, 12, 31)), cal.last_session)
    if start > end:
        return {}
    sched = cal.schedule.loc[start:end]
    return {
        d.date().isoformat(): (o.isoformat(), c.isoformat())
        for d, o, c in zip(sched.index, sched["open"], sched["close"])
    }


def _session(day: date, calendar: str) -> tuple[datetime, datetime]:
    row = _sessions(calendar, day.year).get(day.isoformat())
    if row is None:
        raise ValueError(f"{day.isoformat()} is not a {calendar} trading session")
    return tuple(datetime.fromisoformat(x).astimezone(timezone.utc) for x in row)  # type: ignore[return-value]


def session_close(day: date, calendar: str = "XNYS") -> datetime:
    """UTC close of ``day``'s regular session; ValueError if the exchange is shut that day."""
    return _session(day, calendar)[1]


def parse_new_york(text: str) -> datetime:
    """An ISO-8601 time; without a Z or an offset it is New York time (how traders write it)."""
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=NEW_YORK)


def is_market_open(ts: datetime, calendar: str = "XNYS") -> bool:
    day = ts.astimezone(NEW_YORK).date()
    try:
        start, end = _session(day, calendar)
    except ValueError:
        return False
    return start <= ts < end


def years_between(start: datetime, end: datetime) -> float:
    """Calendar time in years (365 days) to the second; negative once ``end`` has passed."""
    return (end - start).total_seconds() / SECONDS_PER_YEAR


def time_to_expiry(ts: datetime, close: datetime) -> float:
    return years_between(ts, close)
