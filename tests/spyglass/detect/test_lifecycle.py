from datetime import datetime, timedelta, timezone

from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding
from spyglass.detect.lifecycle import advance

T = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
CFG = DetectorConfig(continuing_every_seconds=30, forget_after_seconds=10)


def f(sev="low", strike=600.0):
    return Finding("mispricing", "C", strike, 5.0, sev, "r", "s")


def test_new_then_quiet_then_continuing_at_the_throttle():
    active, states = {}, []
    for s in range(0, 61):
        emit, active = advance([f()], active, T + timedelta(seconds=s), CFG)
        states += [(s, st) for _, st, _ in emit]
    assert states == [(0, "new"), (30, "continuing"), (60, "continuing")]


def test_rising_severity_is_reported_at_once_and_keeps_first_seen():
    emit, active = advance([f("low")], {}, T, CFG)
    emit, active = advance([f("high")], active, T + timedelta(seconds=2), CFG)
    assert [(st, first) for _, st, first in emit] == [("continuing", T)]


def test_a_condition_that_ends_and_returns_is_new_again():
    _, active = advance([f()], {}, T, CFG)
    _, active = advance([], active, T + timedelta(seconds=11), CFG)
    emit, _ = advance([f()], active, T + timedelta(seconds=12), CFG)
    assert [st for _, st, _ in emit] == ["new"]


def test_keys_are_independent():
    emit, _ = advance([f(strike=600.0), f(strike=601.0)], {}, T, CFG)
    assert len(emit) == 2
