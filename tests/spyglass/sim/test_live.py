"""Today's session on the wall clock (spyglass.sim.live) and the demo's underlyings (spyglass.sim.underlyings)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from spyglass.clock import NEW_YORK
from spyglass.contract import Snapshot, parse_iso
from spyglass.session import ScoringSession
from spyglass.sim import SimConfig, simulate_day
from spyglass.sim.config import SessionHours, regular_hours, resolve_session
from spyglass.sim.live import AHEAD, LAST_CLOSE, live_hours
from spyglass.sim.underlyings import DEMO_UNDERLYINGS, demo_underlying, live_config
from spyglass.wire.summary import is_simulated


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_an_open_market_with_an_hour_to_go_runs_the_exchanges_session():
    h = live_hours(utc("2026-11-24T17:00:00"))  # Tuesday 12:00 New York
    assert not h.simulated
    assert h.open == utc("2026-11-24T14:30:00") and h.close == utc("2026-11-24T21:00:00")


def test_a_simulated_session_can_be_asked_for_while_the_exchange_is_open():
    now = utc("2026-11-24T17:00:00")
    h = live_hours(now, simulated=True)
    assert h.simulated and h.close - now >= AHEAD and h.open < now


def test_an_early_close_is_the_exchanges_own():
    h = live_hours(utc("2026-11-27T15:00:00"))  # the day after Thanksgiving, 10:00 New York; closes 13:00
    assert not h.simulated and h.close == utc("2026-11-27T18:00:00")


@pytest.mark.parametrize("now", [
    "2026-11-24T20:30:00",  # the last half hour of a session
    "2026-11-24T23:17:42",  # an evening
    "2026-11-28T15:00:00",  # a Saturday
    "2026-11-26T16:00:00",  # Thanksgiving
    "2026-11-24T12:00:00",  # before the open
])
def test_out_of_hours_a_simulated_session_around_now_closes_hours_ahead_on_todays_date(now):
    t = utc(now)
    h = live_hours(t)
    assert h.simulated
    assert h.open <= t < h.close
    assert h.close - t >= AHEAD - timedelta(seconds=1)
    assert h.close.second == 0 and h.close.microsecond == 0  # IB's trading hours have minutes
    today = t.astimezone(NEW_YORK).date()
    assert h.open.astimezone(NEW_YORK).date() == h.close.astimezone(NEW_YORK).date() == today


def test_late_at_night_the_session_closes_before_midnight_new_york_unless_that_is_minutes_away():
    h = live_hours(utc("2026-11-25T03:30:00"))  # 22:30 New York
    assert h.close.astimezone(NEW_YORK).time() == LAST_CLOSE
    t = utc("2026-11-25T04:55:00")  # 23:55 New York: four minutes would be no session
    late = live_hours(t)
    assert late.close - t >= AHEAD - timedelta(seconds=1)
    assert late.open.astimezone(NEW_YORK).date() == date(2026, 11, 24)


def test_regular_hours_simulate_a_day_the_exchange_is_shut():
    assert not regular_hours(date(2026, 11, 24)).simulated
    sat = regular_hours(date(2026, 11, 28))
    assert sat.simulated and sat.close.astimezone(NEW_YORK).hour == 16


def test_session_hours_are_aware_and_ordered():
    with pytest.raises(ValueError, match="aware"):
        SessionHours(datetime(2026, 11, 24, 14), datetime(2026, 11, 24, 21, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="before"):
        SessionHours(utc("2026-11-24T21:00:00"), utc("2026-11-24T14:00:00"))


def test_a_simulated_session_on_a_weekend_streams_from_now_with_its_close_and_coherent_time_to_expiry():
    now = utc("2026-11-28T20:15:30.250")  # Saturday 15:15 New York
    hours = live_hours(now)
    for u in DEMO_UNDERLYINGS:
        day = simulate_day(live_config(u.symbol, hours, now, seed=3))
        assert day.session.simulated and day.session.close == hours.close
        first, second = next(day), next(day)
        assert parse_iso(first["ts"]) == now
        assert parse_iso(second["ts"]) == now + timedelta(seconds=1)
        assert first["expiry"] == "2026-11-28"
        assert parse_iso(first["expiry_close"]) == hours.close
        assert is_simulated(first["source"])
        result = ScoringSession().feed(Snapshot.from_dict(first))
        assert result.analytics["simulated"] is True  # what the dashboard's badge reads
        mtc = result.analytics["minutes_to_close"]  # the scorer's time to expiry is expiry_close - ts
        assert mtc == pytest.approx((hours.close - now).total_seconds() / 60, abs=1e-3)


def test_each_demo_underlying_has_its_own_market_and_its_own_anomalies():
    now = utc("2026-11-24T17:00:00")
    hours = SessionHours(now - timedelta(hours=2), now + timedelta(hours=1))
    days = {u.symbol: simulate_day(live_config(u.symbol, hours, now, rate_per_hour=120.0)) for u in DEMO_UNDERLYINGS}
    firsts = {s: next(d) for s, d in days.items()}
    spots = {s: f["spot"] for s, f in firsts.items()}
    assert len(set(spots.values())) == 3
    strikes = {s: [c["strike"] for c in f["contracts"]] for s, f in firsts.items()}
    for s, ks in strikes.items():  # a grid around its own spot
        assert min(ks) < spots[s] < max(ks)
    for d in days.values():
        for _ in range(300):
            next(d)
    onsets = {s: {(lb["type"], lb["start"]) for lb in d.labels} for s, d in days.items()}
    assert all(onsets.values())
    assert onsets["SPY"] != onsets["QQQ"] != onsets["IWM"] != onsets["SPY"]
    with pytest.raises(ValueError, match="no demo preset"):
        demo_underlying("TSLA")


def test_an_explicit_trading_date_still_needs_a_session():
    with pytest.raises(ValueError, match="not a XNYS trading session"):
        resolve_session(SimConfig(trading_date=date(2026, 11, 28)))
    ses = resolve_session(SimConfig(trading_date=date(2026, 11, 24), start="10:00"))
    assert not ses.simulated and ses.start == utc("2026-11-24T15:00:00")


@pytest.mark.parametrize(("source", "simulated"), [
    ("sim", True), ("ibkr-sim", True), ("replay-sim", True),
    ("ibkr", False), (None, False), ("", False), ("simex", False), ("ibkr-simple", False),
])
def test_the_simulated_source_rule(source, simulated):
    assert is_simulated(source) is simulated
