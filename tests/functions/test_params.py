"""API parameters: every bad value is a 400 with a message; user input never enters the OData text."""

from datetime import datetime, timezone

import pytest

from functions.params import AnomalyQuery, ParamError, decode_token, encode_token

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def q(**p):
    return AnomalyQuery.from_params(p, "SPY", NOW)


def test_defaults_are_the_last_day_of_the_default_underlying():
    a = q()
    assert a.underlying == "SPY" and a.until == NOW and (a.until - a.since).days == 1 and a.limit == 100


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "yesterday"}, "since must be an ISO-8601"),
    ({"until": "2026-11-24T10:00:00"}, "until must include a timezone"),
    ({"since": "2026-11-25T00:00:00Z", "until": "2026-11-24T00:00:00Z"}, "since must not be after until"),
    ({"type": "sweep"}, "type must be one of"),
    ({"severity": "critical"}, "severity must be one of"),
    ({"right": "call"}, "right must be one of"),
    ({"min_strike": "abc"}, "min_strike must be a number"),
    ({"max_strike": "-1"}, "max_strike must be a finite number"),
    ({"min_strike": "nan"}, "min_strike must be a finite number"),
    ({"min_strike": "610", "max_strike": "600"}, "min_strike must not exceed"),
    ({"limit": "0"}, "limit must be an integer from 1 to 1000"),
    ({"limit": "1001"}, "limit must be an integer from 1 to 1000"),
    ({"limit": "10; drop"}, "limit must be an integer"),
    ({"underlying": "spy' or 1 eq 1"}, "underlying must be a ticker"),
    ({"continuation": "garbage"}, "continuation is not a token"),
    ({"colour": "red"}, "unknown parameter"),
])
def test_bad_parameters_are_rejected_with_a_message(params, message):
    with pytest.raises(ParamError, match=message):
        q(**params)


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
                   " and type eq @type and severity eq @severity and right eq @right"
                   " and strike ge @min_strike and strike le @max_strike")
    assert params["type"] == "mispricing" and params["min_strike"] == 590.0
    assert params["pk_lo"] == "SPY-20261123" and params["pk_hi"] == "SPY-20261124"


def test_continuation_tokens_round_trip_and_reject_forgeries():
    token = {"PartitionKey": "SPY-20261124", "RowKey": "1795977000000-abc"}
    assert decode_token(encode_token(token)) == token
    import base64

    for forged in (b'{"pk": "SPY\' or 1", "rk": "x"}', b'{"pk": "a\\r\\nx-evil: 1", "rk": "x"}',
                   b'{"pk": 1, "rk": "x"}', b'{"rk": "x"}'):
        with pytest.raises(ParamError):
            decode_token(base64.urlsafe_b64encode(forged).decode())
