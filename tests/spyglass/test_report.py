"""The readable report of a scored day."""

from spyglass.report import analytics_table


def row(ts: str, spot: float, underlying: str = "SPY") -> dict:
    return {"underlying": underlying, "expiry": "2026-11-24", "ts": ts, "spot": spot, "forward": spot,
            "atm_iv": 0.15, "expected_move": 2.0, "rr25_vol_points": -3.0, "gex": {"total": 1.0, "zero_gamma": []},
            "fit": {"method": "spline"}, "data_quality": {"grade": "good"}}


def test_a_row_that_arrives_late_is_placed_in_time_not_dropped():
    rows = [row("2026-11-24T15:00:00.000Z", 600.0), row("2026-11-24T15:40:00.000Z", 602.0),
            row("2026-11-24T15:10:00.000Z", 601.0)]  # the 10:10 row came last
    lines = analytics_table(rows, every_minutes=10)
    assert [ln.split()[0] for ln in lines[1:]] == ["10:00:00", "10:10:00", "10:40:00"]


def test_several_chains_are_printed_one_after_another_under_their_names():
    rows = [row("2026-11-24T15:00:00.000Z", 600.0), row("2026-11-24T15:00:00.000Z", 520.0, "QQQ"),
            row("2026-11-24T15:30:00.000Z", 601.0)]
    lines = analytics_table(rows, every_minutes=10)
    assert lines[1] == "SPY 2026-11-24" and lines[4] == "QQQ 2026-11-24"
    assert len(lines) == 6
