"""Today's expiry and its listing, from IB's option parameters and contract details. Pure.

Never hard-codes a date: the expiry is whichever listed expiration equals today's date in New
York. The listing comes from one ``reqContractDetails`` (the exact strikes and conIds that
trade), not from the union of strikes that ``reqSecDefOptParams`` returns for all expiries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from edge.collector.hours import Session, parse_hours, session_on
from edge.collector.window import Line


def ib_date(text: str) -> date | None:
    """``20261124`` -> date; None for month codes (``202611``) or junk."""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) >= 8 else None
    except ValueError:
        return None


def pick_expiry(chains: Iterable[Any], today: date, trading_class: str, exchange: str = "SMART") -> str | None:
    """The ``YYYYMMDD`` expiration equal to ``today`` among ``OptionChain``-like objects, else None."""
    for ch in chains:
        if ch.exchange != exchange or (trading_class and ch.tradingClass != trading_class):
            continue
        for exp in ch.expirations:
            if ib_date(exp) == today:
                return exp
    return None


def upcoming(chains: Iterable[Any], today: date, n: int = 3) -> list[str]:
    """The next few expirations after today, for the idle message."""
    later = sorted({e for ch in chains for e in ch.expirations if (ib_date(e) or today) > today})
    return later[:n]


@dataclass
class Listing:
    """One expiry's tradeable options: strikes ascending, conIds by (right, strike), its sessions."""

    underlying: str
    expiry: date
    strikes: list[float]
    con_ids: dict[Line, int]
    contracts: dict[Line, Any] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    tz_id: str = "US/Eastern"

    @property
    def session(self) -> Session | None:
        """The expiry day's session: its close is the expiry close, early closes included."""
        return session_on(self.sessions, self.expiry, self.tz_id)

    def close(self) -> datetime | None:
        s = self.session
        return s.close if s else None

    def drop(self, line: Line) -> None:
        """Forget a contract the gateway does not know (error 200)."""
        self.con_ids.pop(line, None)
        self.contracts.pop(line, None)
        right, k = line
        if (("P" if right == "C" else "C"), k) not in self.con_ids:
            self.strikes = [s for s in self.strikes if s != k]


def listing_from_details(underlying: str, expiry: date, details: Sequence[Any]) -> Listing:
    """Build the listing from ``ContractDetails``-like objects; ValueError if there are none."""
    con_ids: dict[Line, int] = {}
    contracts: dict[Line, Any] = {}
    hours, liquid, tz = "", "", "US/Eastern"
    for cd in details:
        c = cd.contract
        if c is None or ib_date(c.lastTradeDateOrContractMonth or "") != expiry or c.right not in ("C", "P"):
            continue
        line = (c.right, float(c.strike))
        con_ids[line] = int(c.conId)
        contracts[line] = c
        liquid = liquid or cd.liquidHours
        hours = hours or cd.tradingHours
        tz = cd.timeZoneId or tz
    if not con_ids:
        raise ValueError(f"no {underlying} options listed for {expiry.isoformat()}")
    strikes = sorted({k for _, k in con_ids})
    return Listing(underlying, expiry, strikes, con_ids, contracts, parse_hours(liquid or hours, tz), tz)
