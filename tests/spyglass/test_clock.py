from datetime import date, datetime, timezone

import pytest

from spyglass.clock import is_market_open, session_close, time_to_expiry


def test_regular_close_in_new_york_winter_time():
    assert session_close(date(2026, 11, 24)) == datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)


def test_regular_close_in_summer_time():
    assert session_close(date(2026, 7, 15)) == datetime(2026, 7, 15, 20, 0, tzinfo=timezone.utc)


def test_early_close_after_thanksgiving():
    assert session_close(date(2026, 11, 27)) == datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)


def test_holiday_has_no_session():
    with pytest.raises(ValueError, match="not a XNYS trading session"):
        session_close(date(2026, 11, 26))


def test_time_to_expiry_to_the_second():
    close = datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)
    ts = datetime(2026, 11, 24, 20, 59, 59, tzinfo=timezone.utc)
    assert time_to_expiry(ts, close) == pytest.approx(1 / (365 * 86400), rel=1e-12)
    assert time_to_expiry(close, close) == 0.0


def test_market_open_gate():
    assert is_market_open(datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    assert not is_market_open(datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc))
    assert not is_market_open(datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc))


def test_session_table_is_cached_on_disk_so_fresh_processes_skip_pandas(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from datetime import date; from spyglass.clock import session_close; "
            "print(session_close(date(2026, 11, 27)).isoformat(), 'pandas' in sys.modules)")
    env = {"SPYGLASS_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["2026-11-27T18:00:00+00:00", "True"]
    assert second.stdout.split() == ["2026-11-27T18:00:00+00:00", "False"]
    assert len(list(tmp_path.glob("sessions-XNYS-2026-*.json"))) == 1
