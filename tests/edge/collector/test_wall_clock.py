"""The demo's edge on the wall clock: the collector on real time streams the fake gateway's simulated session.

The collector is exactly the production one (real clock, the close from the contract details'
trading hours); only the gateway's hours are simulated, so the snapshots' ``expiry_close`` is the
simulated close and time to expiry is that close minus the real ``ts``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from devstack.ibgateway.market import SimMarket, live_market
from edge.collector.hours import parse_hours, session_on
from spyglass.clock import NEW_YORK
from spyglass.sim.config import SessionHours
from spyglass.wire.summary import is_simulated
from tests.edge.collector.harness import Harness, run


def simulated_hours(now: datetime) -> SessionHours:
    """A session opened within today (New York) and closing two hours ahead, on whole minutes."""
    midnight = datetime.combine(now.astimezone(NEW_YORK).date(), time(0), NEW_YORK).astimezone(timezone.utc)
    open_ = max((now - timedelta(hours=1)).replace(second=0, microsecond=0), midnight)
    close = (now + timedelta(hours=2, minutes=1)).replace(second=0, microsecond=0)
    return SessionHours(open_, close, simulated=True)


def test_the_collector_on_real_time_streams_a_simulated_session_with_its_close():
    now = datetime.now(timezone.utc)
    hours = simulated_hours(now)
    today = now.astimezone(NEW_YORK).date()

    async def scenario():
        async with Harness(day=today, clock=None, sim_start=now, market_kw={"hours": hours}, lines=30,
                           source="ibkr-sim") as h:
            await h.more_snapshots(3, timeout=30.0)
            return h.snapshots, datetime.now(timezone.utc)

    snaps, after = run(scenario())
    s = snaps[-1]
    assert s.expiry == today and s.source == "ibkr-sim" and is_simulated(s.source)
    assert s.expiry_close == hours.close  # from the gateway's trading hours, not the calendar
    assert now <= s.ts <= after  # stamped by the real clock


def test_the_gateway_lists_today_and_its_simulated_hours_even_when_the_exchange_is_shut():
    saturday = datetime(2026, 11, 28, 20, 15, 30, tzinfo=timezone.utc)
    hours = SessionHours(datetime(2026, 11, 28, 17, 45, tzinfo=timezone.utc),
                         datetime(2026, 11, 29, 0, 16, tzinfo=timezone.utc), simulated=True)
    m = SimMarket(saturday.date(), saturday, hours=hours, interval_s=1.0)
    assert m.expiries[0] == "20261128" and m.simulated
    assert m.close == hours.close and m.ts == saturday
    session = session_on(parse_hours(m.hours, "US/Eastern"), saturday.date())
    assert session is not None and (session.open, session.close) == (hours.open, hours.close)
    assert m.hours.split(";")[1] == "20261129:CLOSED"  # the rest from the calendar


def test_the_live_market_runs_todays_session_from_now():
    now = datetime.now(timezone.utc)
    m = live_market(now, interval_s=1.0)
    assert m.trading_date == now.astimezone(NEW_YORK).date()
    assert abs(m.ts - now) < timedelta(milliseconds=1) and now < m.close  # ts travel with milliseconds
