"""The fake gateway's market: the project's simulator, re-cut as per-contract quote state.

IB Gateway streams *changes* of price/size per contract; the simulator produces whole chain
snapshots. ``SimMarket.step()`` advances the simulator one interval and keeps the latest quote
of every listed contract, so the server can diff per subscription and send only what changed
(as TWS does every 100 ms for options).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import numpy as np

from spyglass.analytics.black import greeks
from spyglass.clock import NEW_YORK, SECONDS_PER_YEAR, session_close
from spyglass.contract import parse_iso
from spyglass.sim import InjectionConfig, SimConfig, simulate_day
from spyglass.sim.config import SessionHours
from spyglass.sim.underlyings import demo_injection

UNDERLYING_CON_ID = 756733  # SPY's real conId; any stable number would do
_OPTION_CON_ID0 = 800_000_000


@dataclass(frozen=True, slots=True)
class Listing:
    """One listed option of the simulated expiry."""

    con_id: int
    right: str  # "C" | "P"
    strike: float
    expiry: str  # YYYYMMDD
    local_symbol: str


@dataclass(frozen=True, slots=True)
class Quote:
    """Wire-ready values with TWS sentinels: price -1 / size 0 mean no quote."""

    bid: float
    bid_size: float
    ask: float
    ask_size: float
    last: float
    volume: float
    open_interest: float
    model_price: float = -1.0
    iv: float = -1.0
    delta: float = -2.0
    gamma: float = -2.0
    vega: float = -2.0
    theta: float = -2.0


def ib_day(d: date) -> str:
    return d.strftime("%Y%m%d")


def trading_hours(start: date, days: int = 7, calendar: str = "XNYS", first: SessionHours | None = None) -> str:
    """``tradingHours``/``liquidHours`` in TWS's form: ``20261127:0930-20261127:1300;20261128:CLOSED``.

    Built from exchange-calendars, so early closes and holidays are right; ``first`` replaces the
    first day's hours (a simulated session, as the collector then reads its close).
    """
    parts = []
    for i in range(days):
        d = start + timedelta(days=i)
        if i == 0 and first is not None:
            o, c = first.open.astimezone(NEW_YORK), first.close.astimezone(NEW_YORK)
            parts.append(f"{ib_day(o.date())}:{o:%H%M}-{ib_day(c.date())}:{c:%H%M}")
            continue
        try:
            close = session_close(d, calendar).astimezone(NEW_YORK)
        except ValueError:
            parts.append(f"{ib_day(d)}:CLOSED")
            continue
        parts.append(f"{ib_day(d)}:0930-{ib_day(close.date())}:{close.strftime('%H%M')}")
    return ";".join(parts)


def next_sessions(start: date, n: int, calendar: str = "XNYS") -> list[date]:
    out, d = [], start
    while len(out) < n:
        try:
            session_close(d, calendar)
            out.append(d)
        except ValueError:
            pass
        d += timedelta(days=1)
    return out


class SimMarket:
    """A simulated SPY-like 0DTE market for one trading date, stepped on demand.

    ``zero_dte=False`` lists only later expiries (the collector must then idle). ``inject`` adds the
    simulator's labelled anomalies (``rate_per_hour`` of each type, for a demo with something to see).
    ``hours`` gives the day a simulated session (the live demo out of hours); its contract details
    then carry that session, so the collector's close is the simulated one.
    """

    def __init__(
        self,
        trading_date: date,
        start: time | str | datetime = time(9, 30),
        *,
        underlying: str = "SPY",
        seed: int = 0,
        interval_s: float = 0.1,
        inject: bool = False,
        rate_per_hour: float | None = None,
        zero_dte: bool = True,
        later_expiries: int = 4,
        hours: SessionHours | None = None,
    ) -> None:
        self.underlying = underlying
        self.trading_date = trading_date
        self.interval_s = interval_s
        inj = InjectionConfig() if rate_per_hour is None else demo_injection(rate_per_hour)
        self._cfg = SimConfig(underlying=underlying, trading_date=trading_date, start=start, hours=hours,
                              interval_s=interval_s, seed=seed, injection=replace(inj, enabled=inject))
        self._sim = simulate_day(self._cfg)
        self.close = self._sim.session.close
        self.simulated = self._sim.session.simulated  # hours the exchange did not publish
        self.expiry = ib_day(trading_date)
        sessions = next_sessions(trading_date, later_expiries + 1)
        if sessions[0] != trading_date:  # a simulated session on a day the exchange is shut
            sessions = [trading_date, *sessions[:-1]]
        self.expiries = [ib_day(d) for d in sessions if zero_dte or d != trading_date]
        self.zero_dte = zero_dte
        self.strikes = [float(k) for k in self._sim.strikes]
        self.listing: dict[int, Listing] = {}
        self._by_key: dict[tuple[str, float], int] = {}
        for i, k in enumerate(self.strikes):
            for j, right in enumerate(("C", "P")):
                con_id = _OPTION_CON_ID0 + 2 * i + j
                local = f"{underlying:<6}{trading_date.strftime('%y%m%d')}{right}{round(k * 1000):08d}"
                self.listing[con_id] = Listing(con_id, right, k, self.expiry, local)
                self._by_key[(right, k)] = con_id
        self.hours = trading_hours(trading_date, first=hours)
        self.quotes: dict[int, Quote] = {}
        self.spot = float(self._sim.spot0)
        self.ts: datetime = self._sim.session.start
        self.atm_vol = float(self._sim.atm_vol0)
        self.finished = False
        self._und_volume = 0.0
        self.step()

    def con_id(self, right: str, strike: float) -> int | None:
        return self._by_key.get((right, float(strike)))

    def underlying_quote(self) -> Quote:
        s = round(self.spot, 2)
        return Quote(round(s - 0.01, 2), 300.0, round(s + 0.01, 2), 400.0, s, self._und_volume,
                     float(sum(q.open_interest for q in self.quotes.values() if q.open_interest > 0)))

    def step(self) -> bool:
        """Advance one interval; False once the session is over (quotes stay frozen)."""
        if self.finished:
            return False
        try:
            snap = next(self._sim)
        except StopIteration:
            self.finished = True
            return False
        self.spot = float(snap["spot"])
        self.ts = parse_iso(snap["ts"])
        self._und_volume += 1000.0
        rows = snap["contracts"]
        t = max((self.close - self.ts).total_seconds() / SECONDS_PER_YEAR, 1e-7)
        strikes = np.array([r["strike"] for r in rows], dtype=float)
        calls = np.array([r["right"] == "C" for r in rows])
        sig = self.atm_vol
        # TWS's model greeks: one flat vol, no carry (forward = spot), vega per vol point, theta per day
        g = greeks(self.spot, self.spot, strikes, t, 0.0, sig, calls)
        delta, gamma, vega, theta = g.delta, g.gamma, g.vega / 100.0, g.theta_day
        quotes = {}
        for i, r in enumerate(rows):
            con_id = self._by_key.get((r["right"], float(r["strike"])))
            if con_id is None:
                continue
            bid, ask = _price(r.get("bid")), _price(r.get("ask"))
            bsz = _size(r.get("bid_size"), bid)
            asz = _size(r.get("ask_size"), ask)
            if bsz == 0.0:
                bid = -1.0
            if asz == 0.0:
                ask = -1.0
            mid = (bid + ask) / 2 if bid > 0 and ask > 0 else -1.0
            quotes[con_id] = Quote(
                bid, bsz, ask, asz, _price(r.get("last")), _count(r.get("volume")), _count(r.get("open_interest")),
                round(mid, 4), round(sig, 6) if mid > 0 else -1.0, round(float(delta[i]), 6),
                round(float(gamma[i]), 6), round(float(vega[i]), 6), round(float(theta[i]), 6),
            )
        self.quotes.update(quotes)
        return True


def _price(v: object) -> float:
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v):
        return -1.0
    return round(float(v), 4)


def _size(v: object, price: float) -> float:
    if price == -1.0:
        return 0.0
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        return 1.0  # a quote with an unknown size: IB always sends one
    return float(v)


def _count(v: object) -> float:
    if v is None or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        return -1.0
    return float(v)


def today_market(clock_now: datetime, **kw: object) -> SimMarket:
    """A simulated market for ``clock_now``'s New York date, starting at its time of day."""
    ny = clock_now.astimezone(NEW_YORK)
    return SimMarket(ny.date(), ny.time().replace(microsecond=0), **kw)  # type: ignore[arg-type]


def live_market(now: datetime, hours: SessionHours | None = None, **kw: object) -> SimMarket:
    """Today's market on the wall clock from ``now``: ``hours``, by default the exchange's session or a
    simulated one around now (``spyglass.sim.live``)."""
    from spyglass.sim.live import live_hours

    return SimMarket(now.astimezone(NEW_YORK).date(), now, hours=hours or live_hours(now),  # type: ignore[arg-type]
                     **kw)
