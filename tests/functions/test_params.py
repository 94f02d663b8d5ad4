"""API parameters: every bad value is a 400 with a message; user input never enters the OData text."""

import base64
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from functions import tokens
from functions.params import AnomalyQuery, ParamConflict, ParamError, parse_date, parse_time, signals_since, window
from spyglass.contract import ANOMALY_TYPES
from spyglass.wire.tables import day_partition, inverted_row, time_row

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)
NEXT = {"PartitionKey": "1!20!U1BZLTIwMjYxMTI0", "RowKey": "1!52!MTc5NTk3NzAwMDAwMC1hYmM-"}


def q(**p):
    return AnomalyQuery.from_params(p, "SPY", NOW)


def test_defaults_are_the_last_day_of_the_default_underlying():
    a = q()
    assert a.underlying == "SPY" and a.until == NOW and (a.until - a.since).days == 1 and a.limit == 100


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "yesterday"}, "since must be an ISO-8601"),
    ({"until": "2026-11-24T10:00:00"}, "until must be an ISO-8601 timestamp with seconds and an offset"),
    ({"until": "2026-11-24T10:00Z"}, "until must be an ISO-8601"),  # no seconds
    ({"since": "2026-02-30T10:00:00Z"}, "since is not a real time"),
    ({"since": "0001-01-01T00:00:00Z"}, "year 1900-2099"),
    ({"until": "9999-12-31T23:59:59Z"}, "year 1900-2099"),
    ({"since": "2026-11-24T00:00:00Z\n"}, "since must be an ISO-8601"),
    ({"since": "2026-11-25T00:00:00Z", "until": "2026-11-24T00:00:00Z"}, "since must not be after until"),
    ({"since": "2025-01-01T00:00:00Z", "until": "2026-11-24T00:00:00Z"}, "at most 400 days apart"),
    ({"since": "1900-01-01T00:00:00Z"}, "at most 400 days apart"),  # until defaults to now
    ({"type": "sweep"}, "type must be one of"),
    ({"severity": "critical"}, "severity must be one of"),
    ({"right": "call"}, "right must be one of"),
    ({"min_strike": "abc"}, "min_strike must be a number"),
    ({"max_strike": "-1"}, "max_strike must be a finite number"),
    ({"min_strike": "nan"}, "min_strike must be a finite number"),
    ({"min_strike": "1e400"}, "min_strike must be a finite number"),
    ({"min_strike": "610", "max_strike": "600"}, "min_strike must not exceed"),
    ({"limit": "0"}, "limit must be an integer from 1 to 1000"),
    ({"limit": "1001"}, "limit must be an integer from 1 to 1000"),
    ({"limit": "10; drop"}, "limit must be an integer"),
    ({"limit": "١٠"}, "limit must be an integer"),  # Arabic-Indic digits pass str.isdigit
    ({"underlying": "spy' or 1 eq 1"}, "underlying must be a ticker"),
    ({"underlying": "spy"}, "underlying must be a ticker symbol in capitals"),
    ({"underlying": "SPY\n"}, "underlying must be a ticker"),
    ({"continuation": "garbage"}, "continuation is not a token"),
    ({"colour": "red"}, "unknown parameter"),
])
def test_bad_parameters_are_rejected_with_a_message(params, message):
    with pytest.raises(ParamError, match=message):
        q(**params)


@pytest.mark.parametrize("name", ["since", "until", "type", "severity", "right", "min_strike", "max_strike",
                                  "underlying", "limit", "continuation"])
def test_an_empty_value_is_an_error_not_the_default(name):
    with pytest.raises(ParamError, match=f"{name} must not be empty"):
        q(**{name: ""})


def test_rules_between_parameters_are_conflicts_and_the_rest_are_not():
    for params in ({"since": "2026-11-25T00:00:00Z", "until": "2026-11-24T00:00:00Z"},
                   {"since": "1900-01-01T00:00:00Z"}, {"min_strike": "610", "max_strike": "600"}):
        with pytest.raises(ParamConflict):
            q(**params)
    with pytest.raises(ParamError) as bad:
        q(since="noon")
    assert not isinstance(bad.value, ParamConflict)


def test_the_extreme_times_the_api_accepts_do_no_date_arithmetic_that_can_overflow():
    for value in ("1900-01-01T00:00:00+23:59", "2099-12-31T23:59:59.999999999-23:59", "1900-01-01T00:00:00Z"):
        ts = parse_time("at", value)
        assert day_partition("SPY", ts) and time_row(ts) and inverted_row(ts)
        assert window(None, ts, timedelta(hours=7), timedelta(days=1)) < ts
        assert signals_since(value, NOW) >= NOW - timedelta(days=7)


def test_row_keys_before_1970_sort_before_every_stored_row():
    early = parse_time("at", "1900-01-01T00:00:00Z")
    assert time_row(early) == "0000000000000" and inverted_row(early) == "9999999999999"
    assert inverted_row(early) >= inverted_row(NOW)  # "at or before 1900" finds no row of 2026


def test_dates_are_the_contract_dates():
    assert parse_date("expiry", "2026-11-24") == "2026-11-24" and parse_date("expiry", None) is None
    for bad in ("2026-1-05", "2026-02-30", "0001-01-01", "20261124", "2026-11-24\n", ""):
        with pytest.raises(ParamError):
            parse_date("expiry", bad)


def test_signals_look_back_at_most_seven_days_and_a_future_since_is_kept():
    assert signals_since(None, NOW) == NOW - timedelta(hours=1)
    assert signals_since("2026-11-01T00:00:00Z", NOW) == NOW - timedelta(days=7)
    assert signals_since("2099-01-01T00:00:00Z", NOW).year == 2099


INJECTIONS = ["mispricing' or '1' eq '1", "x' or PartitionKey ne '", "') or true or ('", "high or 1 eq 1"]


@pytest.mark.parametrize("attack", INJECTIONS)
@pytest.mark.parametrize("field", ["type", "severity", "right", "underlying", "since", "until", "min_strike",
                                   "max_strike", "limit", "continuation"])
def test_odata_injection_is_rejected_before_any_query(field, attack):
    with pytest.raises(ParamError):
        q(**{field: attack})


def test_filter_is_a_fixed_template_with_named_parameters():
    flt, params = q(type="mispricing", severity="high", right="C", min_strike="590", max_strike="610").table_filter()
    assert flt == ("PartitionKey ge @pk_lo and PartitionKey le @pk_hi and RowKey ge @rk_lo and RowKey lt @rk_hi"
                   " and (type eq @type or facet_mispricing eq true) and severity eq @severity and right eq @right"
                   " and strike ge @min_strike and strike le @max_strike")
    assert params["type"] == "mispricing" and params["min_strike"] == 590.0
    assert params["pk_lo"] == "SPY-20261123" and params["pk_hi"] == "SPY-20261124"


def test_a_type_filter_names_only_a_fixed_column_of_its_validated_type():
    for t in ANOMALY_TYPES:  # the facet column is the type's own, and the type itself still goes as @type
        flt, params = q(type=t).table_filter()
        assert f"(type eq @type or facet_{t} eq true)" in flt and params["type"] == t
    with pytest.raises(ParamError):
        q(type="parity or true")


def test_a_token_continues_its_own_query_in_its_own_window():
    first = q(type="mispricing", since="2026-11-24T00:00:00Z")  # until left out: now
    token = first.next_token(NEXT)
    later = AnomalyQuery.from_params({"type": "mispricing", "since": "2026-11-24T00:00:00Z", "continuation": token,
                                      "limit": "7"}, "SPY", NOW + timedelta(minutes=5))
    assert later.continuation == NEXT and later.until == NOW and later.limit == 7  # the first page's "now"
    assert first.next_token(None) is None


@pytest.mark.parametrize("other", [{"type": "parity"}, {"underlying": "QQQ"}, {"until": "2026-11-24T12:00:00Z"},
                                   {"since": "2026-11-24T00:00:01Z"}, {"max_strike": "600"}])
def test_a_token_from_another_query_is_refused(other):
    token = q(type="mispricing", since="2026-11-24T00:00:00Z").next_token(NEXT)
    with pytest.raises(ParamError, match="continuation"):
        q(**{"type": "mispricing", "since": "2026-11-24T00:00:00Z", **other, "continuation": token})


def test_hand_made_and_altered_tokens_are_refused():
    params = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-24T23:00:00Z"}
    token = q(**params).next_token(NEXT)
    body, mac = token.split(".")
    state = orjson.loads(base64.urlsafe_b64decode(body + "=="))
    altered = base64.urlsafe_b64encode(orjson.dumps({**state, "rk": "1!4!MA--"})).rstrip(b"=").decode()
    hand_made = base64.urlsafe_b64encode(b'{"pk": "SPY-20261124", "rk": "1795977000000"}').decode()
    for forged in (f"{altered}.{mac}", hand_made, f"{body}.{'A' * 22}", f"{body}.{mac}x", token + "\n",
                   base64.urlsafe_b64encode(b'{"pk": "a\\r\\nx-evil: 1", "rk": "x"}').decode()):
        with pytest.raises(ParamError, match="continuation"):
            q(**params, continuation=forged)
    assert q(**params, continuation=token).continuation == NEXT


def test_the_signing_key_comes_from_the_app_setting(monkeypatch):
    token = q().next_token(NEXT)
    monkeypatch.setenv(tokens.KEY_SETTING, "k" * 40)
    tokens.signing_key.cache_clear()
    try:
        assert tokens.signing_key() == b"k" * 40
        with pytest.raises(ParamError, match="not issued for this query"):  # another key: another API
            q(continuation=token)
        monkeypatch.setenv(tokens.KEY_SETTING, "short")
        tokens.signing_key.cache_clear()
        with pytest.raises(RuntimeError, match="at least 32"):
            tokens.signing_key()
    finally:
        monkeypatch.delenv(tokens.KEY_SETTING)
        tokens.signing_key.cache_clear()
