from datetime import datetime, timedelta, timezone

from edge.bot import risk
from edge.bot.rules import Leg, Plan
from edge.bot.settings import RiskLimits
from spyglass.contract import Anomaly
from tests.edge.bot.signals import NOW, mispricing

LIMITS = RiskLimits(max_open_positions=2, max_contracts_per_order=2, max_daily_loss=100.0,
                    no_new_minutes_before_close=30, signal_ttl_seconds=30)
PLAN = Plan("x", "r", "debit_vertical", (Leg("C", 600, 1), Leg("C", 601, -1)), 0.40, 41.30, 10.0)


def sig(**kw):
    return Anomaly.from_dict(mispricing(**kw))


def test_fresh_signal_in_session_passes():
    assert risk.check_signal(sig(), NOW + timedelta(seconds=2), LIMITS, kill=False) is None


def test_kill_switch_wins_over_everything():
    assert risk.check_signal(sig(), NOW, LIMITS, kill=True) == "kill switch is on"
    assert risk.kill_switch(False, lambda: True) and not risk.kill_switch(False, lambda: False)


def test_stale_and_future_signals():
    assert risk.check_signal(sig(), NOW + timedelta(seconds=31), LIMITS, False).startswith("stale")
    assert "ahead of the clock" in risk.check_signal(sig(ts=NOW + timedelta(seconds=10)), NOW, LIMITS, False)


def test_expiry_must_be_today_and_market_open():
    assert "not today" in risk.check_signal(sig(expiry=NOW.date() + timedelta(days=1)), NOW, LIMITS, False)
    night = datetime(2026, 11, 24, 23, 0, tzinfo=timezone.utc)
    assert risk.check_signal(sig(ts=night, expiry=night.date()), night, LIMITS, False) == "market is closed"


def test_no_new_positions_in_the_last_minutes_including_early_closes():
    late = datetime(2026, 11, 24, 20, 31, tzinfo=timezone.utc)  # 15:31 New York, close 16:00
    assert "last 30 minutes" in risk.check_signal(sig(ts=late), late, LIMITS, False)
    ok = datetime(2026, 11, 24, 20, 29, tzinfo=timezone.utc)
    assert risk.check_signal(sig(ts=ok), ok, LIMITS, False) is None
    # the day after Thanksgiving closes at 13:00 New York (18:00 UTC)
    early = datetime(2026, 11, 27, 17, 45, tzinfo=timezone.utc)
    assert "last 30 minutes" in risk.check_signal(sig(ts=early, expiry=early.date()), early, LIMITS, False)


def test_size_positions_and_daily_loss():
    empty = risk.Book(0, 0.0)
    assert risk.check_plan(PLAN, 2, LIMITS, empty) is None
    assert "contracts per order" in risk.check_plan(PLAN, 3, LIMITS, empty)
    assert "open positions" in risk.check_plan(PLAN, 1, LIMITS, risk.Book(2, 0.0))
    assert "daily limit" in risk.check_plan(PLAN, 1, LIMITS, risk.Book(1, 60.0))
    assert risk.check_plan(PLAN, 1, LIMITS, risk.Book(1, 58.0)) is None
