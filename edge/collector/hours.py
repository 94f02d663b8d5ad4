"""Trading hours from IB's ContractDetails (``tradingHours``/``liquidHours`` + ``timeZoneId``). Pure.

The strings encode holidays and early closes, which is why the collector gates on them rather
than on a fixed 09:30-16:00:
``20261127:0930-20261127:1300;20261128:CLOSED`` (current form) or ``20090507:0930-1600`` (older,
with comma-separated intervals on one day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

_ALIASES = {"EST": "America/New_York", "EST5EDT": "America/New_York", "US/Eastern": "America/New_York",
            "CST": "America/Chicago", "US/Central": "America/Chicago"}


@dataclass(frozen=True, slots=True)
class Session:
    open: datetime
    close: datetime

    def contains(self, ts: datetime) -> bool:
        return self.open <= ts < self.close


def zone(tz_id: str) -> ZoneInfo:
    return ZoneInfo(_ALIASES.get(tz_id, tz_id or "America/New_York"))


def _at(day: str, hhmm: str, tz: ZoneInfo) -> datetime:
    d = date(int(day[:4]), int(day[4:6]), int(day[6:8]))
    return datetime.combine(d, time(int(hhmm[:2]), int(hhmm[2:4])), tz)


def parse_hours(text: str, tz_id: str) -> list[Session]:
    """Sessions in time order; CLOSED days contribute none. ValueError on text it cannot read."""
    tz = zone(tz_id)
    out: list[Session] = []
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        day, _, spans = part.partition(":")
        if not spans or spans.upper() == "CLOSED":
            continue
        for span in spans.split(","):
            start, _, end = span.partition("-")
            if not end:
                raise ValueError(f"cannot read trading hours {part!r}")
            if ":" in end:  # 20261124:1600
                end_day, end_hm = end.split(":", 1)
            else:  # older form: the same day
                end_day, end_hm = day, end
            out.append(Session(_at(day, start, tz), _at(end_day, end_hm, tz)))
    out.sort(key=lambda s: s.open)
    return out


def session_on(sessions: list[Session], day: date, tz_id: str = "US/Eastern") -> Session | None:
    """The (last) session opening on ``day`` in the contract's zone: it carries that day's close."""
    tz = zone(tz_id)
    found = [s for s in sessions if s.open.astimezone(tz).date() == day]
    return found[-1] if found else None


def current(sessions: list[Session], ts: datetime) -> Session | None:
    return next((s for s in sessions if s.contains(ts)), None)


def next_open(sessions: list[Session], ts: datetime) -> datetime | None:
    return next((s.open for s in sessions if s.open > ts), None)
