"""Today's session on the wall clock, for a live demo: snapshots stamped now, expiring today.

While the exchange is open with an hour or more to go, the demo runs its real hours. Otherwise
(evenings, weekends, holidays, the last hour) it runs a simulated session around now: opened
2.5 hours ago and closing 4 hours ahead, both within today's New York date (a chain expires on
its own date, and the edge collector rediscovers its expiry when the date turns). The close is on
a whole minute because IB's trading-hours strings, which carry it to the collector, have minutes.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from spyglass.clock import NEW_YORK, is_market_open
from spyglass.sim.config import SessionHours, regular_hours

BEFORE = timedelta(hours=2, minutes=30)  # a simulated session opened this long before now...
AHEAD = timedelta(hours=4)  # ...and closes this long after it: a regular session's 6.5 hours
MIN_LEFT = timedelta(hours=1)  # the exchange's own session only with at least this much to go
LAST_CLOSE = time(23, 59)  # a simulated close stays on today's New York date...
MIN_SESSION = timedelta(minutes=10)  # ...unless that leaves less than this; then it runs past midnight


def live_hours(now: datetime, calendar: str = "XNYS", *, simulated: bool = False) -> SessionHours:
    """The session a live demo runs at ``now`` (aware): the exchange's, or a simulated one around now
    (always with ``simulated``)."""
    now = now.astimezone(timezone.utc)
    today = now.astimezone(NEW_YORK).date()
    if not simulated and is_market_open(now, calendar):
        real = regular_hours(today, calendar)
        if real.close - now >= MIN_LEFT:
            return real
    midnight = datetime.combine(today, time(0, 0), NEW_YORK).astimezone(timezone.utc)
    open_ = max(_minute(now - BEFORE), midnight)
    close = _minute(now + AHEAD + timedelta(seconds=59))  # rounded up: never less than AHEAD
    last = datetime.combine(today, LAST_CLOSE, NEW_YORK).astimezone(timezone.utc)
    if last - now >= MIN_SESSION:
        close = min(close, last)
    return SessionHours(open_, close, simulated=True)


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)
