"""chain-snapshot/1 and anomaly/1: the parser in spyglass.contract and the JSON
Schemas in docs/schemas must accept and reject the same documents.

Every malformed case is run through both ``Snapshot.from_json`` and a
Draft 2020-12 validator with format checking, so neither can loosen or tighten
without the other.
"""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from spyglass import contract
from spyglass.contract import (
    ANOMALY_SCHEMA,
    ANOMALY_TYPES,
    SEVERITIES,
    SNAPSHOT_SCHEMA,
    Anomaly,
    Chain,
    Snapshot,
    SnapshotError,
    anomaly_id,
    iso_ms,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
SNAPSHOT_JSON_SCHEMA = json.loads((SCHEMAS / "chain-snapshot-1.schema.json").read_text())
ANOMALY_JSON_SCHEMA = json.loads((SCHEMAS / "anomaly-1.schema.json").read_text())

FORMATS = FormatChecker()
if "date-time" not in FORMATS.checkers:  # rfc3339-validator is not installed

    @FORMATS.checks("date-time", raises=ValueError)
    def _date_time(instance: object) -> bool:
        # The schema's pattern fixes the syntax; this adds calendar validity.
        if isinstance(instance, str):
            datetime.strptime(instance[:19], "%Y-%m-%dT%H:%M:%S")
        return True


SNAPSHOT_VALIDATOR = Draft202012Validator(SNAPSHOT_JSON_SCHEMA, format_checker=FORMATS)
ANOMALY_VALIDATOR = Draft202012Validator(ANOMALY_JSON_SCHEMA, format_checker=FORMATS)

EXAMPLE = (
    b'{"schema":"chain-snapshot/1","underlying":"SPY","ts":"2026-11-24T15:30:00.000Z","spot":601.23,'
    b'"expiry":"2026-11-24","contracts":[{"right":"C","strike":600.0,"bid":1.52,"ask":1.55,"last":1.53,'
    b'"volume":48211,"open_interest":10233}]}'
)

# Every field present, so that every field can be broken in turn.
VALID: dict[str, Any] = {
    "schema": "chain-snapshot/1",
    "underlying": "SPY",
    "ts": "2026-11-24T15:30:00.000Z",
    "spot": 601.23,
    "expiry": "2026-11-24",
    "expiry_close": "2026-11-24T21:00:00.000Z",
    "rate": 0.043,
    "dividend_yield": 0.012,
    "seq": 7,
    "session": "20261124T150000Z-3fa2c1",
    "source": "test-feed",
    "delayed": False,
    "contracts": [
        {"right": "C", "strike": 600.0, "bid": 1.52, "ask": 1.55, "last": 1.53,
         "volume": 48211, "open_interest": 10233, "bid_size": 50, "ask_size": 70, "quote_age_ms": 120},
        {"right": "P", "strike": 600.0, "bid": 0.28, "ask": 0.30, "last": 0.29,
         "volume": 39110, "open_interest": 12007, "bid_size": 80, "ask_size": 65},
        {"right": "C", "strike": 601.0, "bid": 0.91, "ask": 0.94, "last": 0.92,
         "volume": 30001, "open_interest": 9001, "bid_size": 40, "ask_size": 45},
    ],
}

_LITERAL = "@@literal@@"


def build(op: tuple) -> bytes:
    """Apply one mutation to a copy of VALID and serialise it.

    ("set", path, value) | ("del", path) | ("lit", path, token) | ("raw", bytes);
    "lit" writes a bare token such as NaN that json.dumps would not produce.
    """
    if op[0] == "raw":
        return op[1]
    doc = copy.deepcopy(VALID)
    path = op[1]
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if op[0] == "del":
        del parent[path[-1]]
    elif op[0] == "set":
        parent[path[-1]] = op[2]
    elif op[0] == "lit":
        parent[path[-1]] = _LITERAL
        return json.dumps(doc).replace(json.dumps(_LITERAL), op[2]).encode()
    else:  # pragma: no cover - a typo in a case table
        raise AssertionError(op)
    return json.dumps(doc, allow_nan=False).encode()


def load_interoperable_json(raw: bytes | str) -> Any:
    """json.loads restricted to interoperable JSON (RFC 8259 / RFC 7493).

    NaN, Infinity and numbers that overflow a double are not JSON, so a schema
    validator never sees them: they count as rejected on the schema side.
    """

    def no_constant(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    def finite_float(text: str) -> float:
        v = float(text)
        if not math.isfinite(v):
            raise ValueError(f"{text} overflows a double")
        return v

    return json.loads(raw, parse_constant=no_constant, parse_float=finite_float)


def schema_errors(raw: bytes, validator: Draft202012Validator = SNAPSHOT_VALIDATOR) -> list[str]:
    try:
        doc = load_interoperable_json(raw)
    except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
        return [f"not JSON: {exc}"]
    return [e.message for e in validator.iter_errors(doc)]


def parser_accepts(raw: bytes) -> bool:
    try:
        Snapshot.from_json(raw)
    except SnapshotError:
        return False
    return True


# ---------------------------------------------------------------- malformed input

C0 = ("contracts", 0)


def _missing(*path: Any) -> tuple:
    return (".".join(map(str, path)), ("del", path))


def _bad(path: tuple, value: Any, loc: str | None = None) -> tuple:
    return (loc or ".".join(map(str, path)), ("set", path, value))


def _lit(path: tuple, token: str) -> tuple:
    return (".".join(map(str, path)), ("lit", path, token))


def _raw(data: bytes) -> tuple:
    return ("message", ("raw", data))


MALFORMED = [
    # schema
    _missing("schema"),
    _bad(("schema",), "chain-snapshot/2"),
    _bad(("schema",), "anomaly/1"),
    _bad(("schema",), "Chain-Snapshot/1"),
    _bad(("schema",), None),
    _bad(("schema",), 1),
    # underlying
    _missing("underlying"),
    _bad(("underlying",), None),
    _bad(("underlying",), 123),
    _bad(("underlying",), ["SPY"]),
    _bad(("underlying",), ""),
    _bad(("underlying",), "spy"),
    _bad(("underlying",), "SPY!"),
    _bad(("underlying",), " SPY"),
    _bad(("underlying",), "SPY\n"),
    _bad(("underlying",), "ABCDEFGHIJK"),
    _bad(("underlying",), "1SPY"),
    # ts
    _missing("ts"),
    _bad(("ts",), None),
    _bad(("ts",), True),
    _bad(("ts",), 1795966200),
    _bad(("ts",), 1795966200.5),
    _bad(("ts",), "1795966200"),
    _bad(("ts",), ""),
    _bad(("ts",), "now"),
    _bad(("ts",), "2026-11-24T15:30:00"),  # naive
    _bad(("ts",), "2026-11-24T15:30:00.000"),  # naive
    _bad(("ts",), "2026-11-24"),
    _bad(("ts",), "2026-11-24 15:30:00Z"),
    _bad(("ts",), "2026-11-24t15:30:00z"),
    _bad(("ts",), "2026-11-24T15:30Z"),
    _bad(("ts",), "2026-11-24T15:30:00.Z"),
    _bad(("ts",), "2026-11-24T15:30:00,5Z"),
    _bad(("ts",), "2026-11-24T15:30:00.1234567890Z"),
    _bad(("ts",), "2026-11-24T15:30:00+0000"),
    _bad(("ts",), "2026-11-24T15:30:00UTC"),
    _bad(("ts",), "2026-11-24T15:30:00 Z"),
    _bad(("ts",), "2026-11-24T15:30:00Z\n"),
    _bad(("ts",), "2026-13-01T15:30:00Z"),
    _bad(("ts",), "2026-11-31T15:30:00Z"),
    _bad(("ts",), "2026-02-29T15:30:00Z"),
    _bad(("ts",), "2026-11-24T24:00:00Z"),
    _bad(("ts",), "2026-11-24T15:60:00Z"),
    _bad(("ts",), "2026-11-24T15:30:60Z"),
    _bad(("ts",), "2026-11-24T15:30:00+24:00"),
    _bad(("ts",), "0001-01-01T00:00:00+01:00"),
    _bad(("ts",), "Tue, 24 Nov 2026 15:30:00 GMT"),
    _bad(("ts",), "24/11/2026 15:30:00"),
    # spot
    _missing("spot"),
    _bad(("spot",), None),
    _bad(("spot",), 0),
    _bad(("spot",), 0.0),
    _bad(("spot",), -0.0),
    _bad(("spot",), -601.23),
    _bad(("spot",), "601.23"),
    _bad(("spot",), True),
    _bad(("spot",), [601.23]),
    _bad(("spot",), {"value": 601.23}),
    _lit(("spot",), "NaN"),
    _lit(("spot",), "Infinity"),
    _lit(("spot",), "-Infinity"),
    _lit(("spot",), "1e400"),
    # expiry
    _missing("expiry"),
    _bad(("expiry",), None),
    _bad(("expiry",), 20261124),
    _bad(("expiry",), 1795996800),
    _bad(("expiry",), "1795996800"),
    _bad(("expiry",), "20261124"),
    _bad(("expiry",), "2026/11/24"),
    _bad(("expiry",), "24-11-2026"),
    _bad(("expiry",), "2026-11-24T00:00:00Z"),
    _bad(("expiry",), "2026-11-24\n"),
    _bad(("expiry",), "2026-02-30"),
    _bad(("expiry",), "2026-13-01"),
    _bad(("expiry",), "0000-01-01"),
    _bad(("expiry",), "2026-W48-2"),
    # expiry_close
    _bad(("expiry_close",), "2026-11-24T16:00:00"),  # naive
    _bad(("expiry_close",), "2026-11-24"),
    _bad(("expiry_close",), 1795986000),
    _bad(("expiry_close",), "16:00"),
    _bad(("expiry_close",), False),
    # rate / dividend_yield
    _bad(("rate",), "0.043"),
    _bad(("rate",), True),
    _bad(("rate",), 1.5),
    _bad(("rate",), -0.5),
    _bad(("rate",), [0.043]),
    _lit(("rate",), "NaN"),
    _bad(("dividend_yield",), "0.012"),
    _bad(("dividend_yield",), False),
    _bad(("dividend_yield",), 2),
    _lit(("dividend_yield",), "Infinity"),
    # seq
    _bad(("seq",), -1),
    _bad(("seq",), 1.5),
    _bad(("seq",), "7"),
    _bad(("seq",), True),
    _bad(("seq",), [7]),
    # session
    _bad(("session",), ""),
    _bad(("session",), 12),
    _bad(("session",), "a/b"),
    _bad(("session",), "a b"),
    _bad(("session",), "x" * 65),
    _bad(("session",), "run-1\n"),
    # source
    _bad(("source",), 12),
    _bad(("source",), True),
    _bad(("source",), ["feed"]),
    _bad(("source",), "x" * 65),
    # delayed
    _bad(("delayed",), "true"),
    _bad(("delayed",), "yes"),
    _bad(("delayed",), 1),
    _bad(("delayed",), 0),
    _bad(("delayed",), [True]),
    # contracts
    _missing("contracts"),
    _bad(("contracts",), None),
    _bad(("contracts",), {}),
    _bad(("contracts",), "[]"),
    _bad(("contracts",), [VALID["contracts"][0]] * 5001),
    _bad(("contracts", 0), None),
    _bad(("contracts", 0), 1),
    _bad(("contracts", 0), "C"),
    _bad(("contracts", 0), [["C", 600.0]]),
    # contract.right
    _missing(*C0, "right"),
    _bad((*C0, "right"), None),
    _bad((*C0, "right"), "c"),
    _bad((*C0, "right"), "CALL"),
    _bad((*C0, "right"), "X"),
    _bad((*C0, "right"), 1),
    _bad((*C0, "right"), True),
    # contract.strike
    _missing(*C0, "strike"),
    _bad((*C0, "strike"), None),
    _bad((*C0, "strike"), 0),
    _bad((*C0, "strike"), -600.0),
    _bad((*C0, "strike"), "600"),
    _bad((*C0, "strike"), True),
    _bad((*C0, "strike"), [600.0]),
    _lit((*C0, "strike"), "NaN"),
    _lit((*C0, "strike"), "Infinity"),
    # market values: lenient about the number, strict about it being a number
    _bad((*C0, "bid"), "1.52"),
    _bad((*C0, "bid"), True),
    _bad((*C0, "bid"), [1.52]),
    _bad((*C0, "ask"), "n/a"),
    _bad((*C0, "ask"), {}),
    _bad((*C0, "last"), False),
    _bad((*C0, "volume"), "48211"),
    _bad((*C0, "volume"), True),
    _bad((*C0, "open_interest"), "10233"),
    _bad((*C0, "bid_size"), "50"),
    _bad((*C0, "ask_size"), [70]),
    _bad((*C0, "quote_age_ms"), -5),
    _bad((*C0, "quote_age_ms"), "120"),
    # not a JSON object at all
    _raw(b""),
    _raw(b"{"),
    _raw(b"not json"),
    _raw(b"{'schema': 'chain-snapshot/1'}"),
    _raw(EXAMPLE[:-1]),
    _raw(EXAMPLE[:-2] + b",]}"),
    _raw(b"\xff\xfe"),
    _raw(b"null"),
    _raw(b"[]"),
    _raw(b"42"),
    _raw(b'"chain-snapshot/1"'),
    _raw(b"[" + EXAMPLE + b"]"),
]


def _case_id(case: tuple) -> str:
    loc, op = case
    if op[0] == "del":
        return f"{loc}-missing"
    if op[0] == "raw":
        return f"raw-{op[1][:24]!r}"
    shown = repr(op[2])
    return f"{loc}={shown[:40]}" + ("..." if len(shown) > 40 else "")


@pytest.mark.parametrize(("loc", "op"), MALFORMED, ids=[_case_id(c) for c in MALFORMED])
def test_parser_rejects_and_names_field(loc: str, op: tuple) -> None:
    raw = build(op)
    with pytest.raises(SnapshotError) as info:
        Snapshot.from_json(raw)
    msg = str(info.value)
    assert msg.startswith("invalid chain-snapshot/1: ")
    assert re.search(rf"(: |; ){re.escape(loc)}: ", msg), f"{loc!r} not named in {msg!r}"


@pytest.mark.parametrize(("loc", "op"), MALFORMED, ids=[_case_id(c) for c in MALFORMED])
def test_schema_rejects_the_same_document(loc: str, op: tuple) -> None:
    assert schema_errors(build(op)), f"schema accepted what the parser rejects ({loc})"


def test_malformed_cases_break_every_field() -> None:
    broken = {loc.replace("contracts.0.", "contract.") for loc, _ in MALFORMED}
    top = set(SNAPSHOT_JSON_SCHEMA["properties"])
    per_contract = {f"contract.{k}" for k in SNAPSHOT_JSON_SCHEMA["$defs"]["contract"]["properties"]}
    assert top | per_contract | {"message"} <= broken
    assert set(SNAPSHOT_JSON_SCHEMA["required"]) <= {loc for loc, op in MALFORMED if op[0] == "del"}


def test_snapshot_error_is_a_value_error() -> None:
    assert issubclass(SnapshotError, ValueError)


def test_error_message_lists_several_fields() -> None:
    doc = copy.deepcopy(VALID)
    doc["spot"] = -1
    doc["underlying"] = "spy"
    with pytest.raises(SnapshotError, match=r"underlying: .*; spot: "):
        Snapshot.from_dict(doc)


# ---------------------------------------------------------------- accepted input

ACCEPTED = [
    ("complete", ("set", ("source",), "test-feed")),
    ("issue-example", ("raw", EXAMPLE)),
    ("offset-ts", ("set", ("ts",), "2026-11-24T10:30:00.000-05:00")),
    ("no-fraction", ("set", ("ts",), "2026-11-24T15:30:00Z")),
    ("nanoseconds", ("set", ("ts",), "2026-11-24T15:30:00.123456789Z")),
    ("minus-zero-offset", ("set", ("ts",), "2026-11-24T15:30:00-00:00")),
    ("leap-day", ("set", ("expiry",), "2028-02-29")),
    ("null-expiry_close", ("set", ("expiry_close",), None)),
    ("null-rate", ("set", ("rate",), None)),
    ("rate-bounds", ("set", ("rate",), -0.2)),
    ("null-dividend_yield", ("set", ("dividend_yield",), None)),
    ("null-seq", ("set", ("seq",), None)),
    ("session", ("set", ("session",), "20261124T150000Z-3fa2c1")),
    ("null-session", ("set", ("session",), None)),
    ("integral-float-seq", ("set", ("seq",), 7.0)),
    ("huge-seq", ("set", ("seq",), 2**70)),
    ("null-source", ("set", ("source",), None)),
    ("null-delayed", ("set", ("delayed",), None)),
    ("delayed", ("set", ("delayed",), True)),
    ("no-optionals", ("raw", json.dumps({k: VALID[k] for k in
                                          ("schema", "underlying", "ts", "spot", "expiry", "contracts")}).encode())),
    ("empty-chain", ("set", ("contracts",), [])),
    ("max-chain", ("set", ("contracts",), [{"right": "C", "strike": 1.0 + i} for i in range(5000)])),
    ("integer-strike", ("set", (*C0, "strike"), 600)),
    ("tiny-strike", ("set", (*C0, "strike"), 1e-300)),
    ("dotted-underlying", ("set", ("underlying",), "BRK.B")),
    ("only-right-and-strike", ("set", ("contracts", 0), {"right": "P", "strike": 590.0})),
    ("null-quotes", ("set", ("contracts", 0), {"right": "C", "strike": 600.0, "bid": None, "ask": None,
                                                 "last": None, "volume": None, "open_interest": None,
                                                 "bid_size": None, "ask_size": None})),
    ("negative-bid", ("set", (*C0, "bid"), -0.05)),
    ("crossed", ("set", ("contracts", 0), {"right": "C", "strike": 600.0, "bid": 1.60, "ask": 1.50})),
    ("zero-ask", ("set", (*C0, "ask"), 0)),
    ("fractional-volume", ("set", (*C0, "volume"), 12.5)),
    ("negative-open-interest", ("set", (*C0, "open_interest"), -3)),
    ("extra-top-level", ("set", ("venue",), {"mic": "XCBO", "nested": [1, 2]})),
    ("extra-in-contract", ("set", (*C0, "greeks"), {"delta": 0.51})),
    ("future-schema-field", ("set", ("schema_hint",), "chain-snapshot/2")),
]


@pytest.mark.parametrize(("name", "op"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_parser_and_schema_accept(name: str, op: tuple) -> None:
    raw = build(op)
    Snapshot.from_json(raw)
    assert schema_errors(raw) == []


@pytest.mark.parametrize(
    "example", SNAPSHOT_JSON_SCHEMA["examples"], ids=lambda e: e["ts"]
)
def test_schema_examples_parse(example: dict) -> None:
    assert schema_errors(json.dumps(example).encode()) == []
    Snapshot.from_dict(example)


def test_issue_example_parses() -> None:
    snap = Snapshot.from_json(EXAMPLE)
    assert snap.underlying == "SPY"
    assert snap.ts == datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
    assert snap.spot == 601.23
    assert snap.expiry == date(2026, 11, 24)
    assert snap.expiry_close is None
    assert (snap.rate, snap.dividend_yield, snap.seq, snap.source, snap.delayed) == (None, None, None, None, False)
    assert len(snap.chain) == 1
    assert snap.chain.is_call.tolist() == [True]
    assert snap.chain.strike.tolist() == [600.0]
    assert snap.chain.bid.tolist() == [1.52]
    assert snap.chain.ask.tolist() == [1.55]
    assert snap.chain.volume.tolist() == [48211.0]
    assert snap.chain.open_interest.tolist() == [10233.0]
    assert math.isnan(snap.chain.bid_size[0]) and math.isnan(snap.chain.ask_size[0])
    assert snap.key == "SPY:2026-11-24:2026-11-24T15:30:00.000Z"


def test_parse_accepts_str_and_bytes() -> None:
    assert Snapshot.from_json(EXAMPLE.decode()).to_dict() == Snapshot.from_json(EXAMPLE).to_dict()


def test_offsets_are_converted_to_utc() -> None:
    doc = copy.deepcopy(VALID)
    doc["ts"] = "2026-11-24T10:30:00.250-05:00"
    doc["expiry_close"] = "2026-11-24T16:00:00+00:00"
    snap = Snapshot.from_dict(doc)
    assert snap.ts == datetime(2026, 11, 24, 15, 30, 0, 250_000, tzinfo=timezone.utc)
    assert snap.ts.utcoffset() == timedelta(0)
    assert snap.expiry_close.utcoffset() == timedelta(0)
    assert snap.to_dict()["ts"] == "2026-11-24T15:30:00.250Z"


def test_integral_float_seq_becomes_int() -> None:
    doc = copy.deepcopy(VALID)
    doc["seq"] = 7.0
    seq = Snapshot.from_dict(doc).seq
    assert seq == 7 and type(seq) is int


def test_null_delayed_means_false() -> None:
    doc = copy.deepcopy(VALID)
    doc["delayed"] = None
    assert Snapshot.from_dict(doc).delayed is False
    doc["delayed"] = True
    assert Snapshot.from_dict(doc).delayed is True


def test_extra_fields_are_ignored() -> None:
    doc = copy.deepcopy(VALID)
    doc["venue"] = "XCBO"
    doc["contracts"][0]["greeks"] = {"delta": 0.51}
    doc["contracts"][0]["bid_exchange"] = "C"
    assert Snapshot.from_dict(doc).to_dict() == Snapshot.from_dict(VALID).to_dict()
    assert "venue" not in Snapshot.from_dict(doc).to_dict()


def test_bad_market_values_are_data_not_errors() -> None:
    raw = (
        b'{"schema":"chain-snapshot/1","underlying":"SPY","ts":"2026-11-24T15:30:00.000Z","spot":601.23,'
        b'"expiry":"2026-11-24","contracts":['
        b'{"right":"C","strike":600,"bid":NaN,"ask":Infinity,"last":-Infinity,"volume":NaN},'
        b'{"right":"C","strike":601,"bid":-0.05,"ask":0.9,"open_interest":-1},'
        b'{"right":"C","strike":602,"bid":0.70,"ask":0.60},'
        b'{"right":"C","strike":603,"bid":null,"ask":null,"last":null,"volume":null,"open_interest":null}]}'
    )
    chain = Snapshot.from_json(raw).chain
    assert math.isnan(chain.bid[0]) and chain.ask[0] == math.inf and chain.last[0] == -math.inf
    assert math.isnan(chain.volume[0])
    assert chain.bid[1] == -0.05 and chain.open_interest[1] == -1
    assert chain.bid[2] > chain.ask[2]  # crossed, kept as sent
    assert all(math.isnan(getattr(chain, f)[3]) for f in ("bid", "ask", "last", "volume", "open_interest"))


def test_round_trip() -> None:
    first = Snapshot.from_dict(VALID)
    wire = first.to_json()
    assert schema_errors(wire) == []
    second = Snapshot.from_json(wire)
    assert second.to_json() == wire
    assert second.to_dict() == first.to_dict()
    for name in ("underlying", "ts", "spot", "expiry", "expiry_close", "rate", "dividend_yield", "seq",
                 "session", "source", "delayed"):
        assert getattr(second, name) == getattr(first, name), name
    for name in ("is_call", "strike", "bid", "ask", "last", "volume", "open_interest", "bid_size", "ask_size",
                 "quote_age_ms"):
        np.testing.assert_array_equal(getattr(second.chain, name), getattr(first.chain, name), err_msg=name)


def test_round_trip_of_missing_and_flags() -> None:
    doc = copy.deepcopy(VALID)
    doc["delayed"] = True
    doc["contracts"][0] = {"right": "C", "strike": 600.0, "bid": None, "ask": 1.55}
    snap = Snapshot.from_dict(doc)
    out = orjson.loads(snap.to_json())
    assert out["delayed"] is True
    row = next(r for r in out["contracts"] if r["right"] == "C" and r["strike"] == 600.0)
    assert row["bid"] is None and row["ask"] == 1.55 and row["volume"] is None
    assert schema_errors(snap.to_json()) == []
    assert Snapshot.from_json(snap.to_json()).to_dict() == out


def test_to_dict_writes_milliseconds_and_z() -> None:
    doc = copy.deepcopy(VALID)
    doc["ts"] = "2026-11-24T15:30:00.123456789+00:00"
    d = Snapshot.from_dict(doc).to_dict()
    assert d["ts"] == "2026-11-24T15:30:00.123Z"
    assert d["expiry_close"] == "2026-11-24T21:00:00.000Z"
    assert d["schema"] == SNAPSHOT_SCHEMA


def test_duplicates_keep_first_and_are_recorded() -> None:
    doc = copy.deepcopy(VALID)
    doc["contracts"] += [
        {"right": "C", "strike": 600, "bid": 9.99, "ask": 10.0},  # same key as row 0: 600 == 600.0
        {"right": "P", "strike": 600.0, "bid": 7.77, "ask": 7.8},
        {"right": "C", "strike": 600.0, "bid": 8.88, "ask": 8.9},
    ]
    chain = Snapshot.from_dict(doc).chain
    assert len(chain) == 3
    assert chain.duplicates == (("C", 600.0), ("P", 600.0), ("C", 600.0))
    by_key = {(r["right"], r["strike"]): r for r in chain.to_rows()}
    assert by_key[("C", 600.0)]["bid"] == 1.52
    assert by_key[("P", 600.0)]["bid"] == 0.28


def test_no_duplicates_recorded_for_distinct_rows() -> None:
    assert Snapshot.from_dict(VALID).chain.duplicates == ()


def test_chain_is_sorted_calls_then_puts_by_strike() -> None:
    doc = copy.deepcopy(VALID)
    doc["contracts"] = [
        {"right": r, "strike": k, "bid": float(i)}
        for i, (r, k) in enumerate([("P", 605.0), ("C", 610.0), ("P", 595.0), ("C", 590.0), ("C", 600.5)])
    ]
    chain = Snapshot.from_dict(doc).chain
    assert chain.right.tolist() == ["C", "C", "C", "P", "P"]
    assert chain.strike.tolist() == [590.0, 600.5, 610.0, 595.0, 605.0]
    assert chain.bid.tolist() == [3.0, 4.0, 1.0, 2.0, 0.0]  # other columns move with the sort


def test_chain_from_plain_rows() -> None:
    chain = Chain.from_rows([{"right": "P", "strike": 5.0, "bid": None}, {"right": "C", "strike": 6.0, "bid": 1.0}])
    assert chain.right.tolist() == ["C", "P"]
    assert math.isnan(chain.bid[1])


def test_patterns_in_schema_are_the_parsers() -> None:
    """The wire regexes live twice, in contract.py and the schema; keep them identical."""
    props = SNAPSHOT_JSON_SCHEMA["properties"]
    guard = "(?!\\n)$"
    assert SNAPSHOT_JSON_SCHEMA["$defs"]["timestamp"]["pattern"] == "^" + contract._TS_RE.pattern + guard
    assert props["expiry"]["pattern"] == "^" + contract._DATE_RE.pattern + guard
    underlying = contract._SnapshotModel.model_fields["underlying"]
    pattern = next(m.pattern for m in underlying.metadata if getattr(m, "pattern", None))
    assert props["underlying"]["pattern"] == pattern.removesuffix("$") + guard
    assert props["session"]["pattern"] == contract.SESSION_PATTERN.removesuffix("$") + guard
    assert ANOMALY_JSON_SCHEMA["properties"]["underlying"]["pattern"] == props["underlying"]["pattern"]
    assert ANOMALY_JSON_SCHEMA["properties"]["expiry"]["pattern"] == props["expiry"]["pattern"]
    assert props["contracts"]["maxItems"] == 5000
    assert props["schema"]["const"] == SNAPSHOT_SCHEMA


# ---------------------------------------------------------------- parser == schema, generated

_TOP = ["schema", "underlying", "ts", "spot", "expiry", "expiry_close", "rate", "dividend_yield", "seq",
        "session", "source", "delayed", "contracts"]
_ROW = ["right", "strike", "bid", "ask", "last", "volume", "open_interest", "bid_size", "ask_size", "quote_age_ms"]
_PATHS = [(k,) for k in _TOP] + [(*C0, k) for k in _ROW]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 0.0, -0.0, 1, 7.0, 0.5, -0.2, 1.0, 1.0000001, 5000, 1e-300]),
    st.text(max_size=70),
    st.sampled_from(["C", "P", "c", "SPY", "chain-snapshot/1", "anomaly/1", "true", "600"]),
)
_near_valid_strings = st.one_of(
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{0,10})?)?(Z|z|[+-][0-9]{2}:?[0-9]{2})?)?\n?",
        fullmatch=True,
    ),
    st.from_regex(r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(2[89]|3[01])(T23:59:59(\.999)?(Z|[+-]1[0-4]:00))?", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9. !]{0,12}\n?", fullmatch=True),
)
_values = st.one_of(
    _scalars,
    _near_valid_strings,
    st.lists(_scalars, max_size=3),
    st.dictionaries(st.sampled_from(_ROW + ["x"]), _scalars, max_size=4),
)


@settings(max_examples=1500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), st.one_of(st.just(...), _values)), min_size=1, max_size=3))
def test_parser_and_schema_agree_on_generated_documents(edits: list) -> None:
    doc = copy.deepcopy(VALID)
    for path, value in edits:
        parent: Any = doc
        if len(path) == 3:  # contracts.0.<field>, if an earlier edit left a row there
            rows = doc.get("contracts")
            parent = rows[0] if isinstance(rows, list) and rows else None
        if not isinstance(parent, dict):
            continue
        if value is ...:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    raw = json.dumps(doc).encode()
    parsed = parser_accepts(raw)
    errors = schema_errors(raw)
    assert parsed == (not errors), f"parser {'accepts' if parsed else 'rejects'}, schema says {errors}: {raw[:300]!r}"


# ---------------------------------------------------------------- anomaly/1

TS = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)
EXPIRY = date(2026, 11, 24)


def _anomaly(**kw: Any) -> Anomaly:
    base: dict[str, Any] = dict(
        underlying="SPY", expiry=EXPIRY, ts=TS, right="C", strike=600.0, type="mispricing",
        score=4.8125, severity="high", edge=13.5,
        evidence={"summary": "600 call offered 0.15 below fair.", "state": "new",
                  "first_seen": "2026-11-24T15:30:00.000Z", "rule": "mispricing.smile_residual",
                  "fair": 1.7, "ask": 1.55},
        data_quality={"grade": "good", "two_sided_share": 0.97},
    )
    base.update(kw)
    return Anomaly(**base)


def test_anomaly_id_is_deterministic_and_pinned() -> None:
    a = anomaly_id("SPY", EXPIRY, TS, "C", 600.0, "mispricing")
    assert a == anomaly_id("SPY", date(2026, 11, 24), datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc),
                           "C", 600.0, "mispricing")
    # Pinned: stored ids must survive upgrades, or reprocessing stops being idempotent.
    assert a == "e9a2114158ec5bd1b3c5050d"
    assert re.fullmatch(r"[0-9a-f]{24}", a)
    assert anomaly_id("SPY", EXPIRY, TS, None, None, "data_error") == "448de83b55b374af2f11a51b"


def test_anomaly_id_ignores_representation() -> None:
    a = anomaly_id("SPY", EXPIRY, TS, "C", 600.0, "mispricing")
    est = timezone(timedelta(hours=-5))
    assert anomaly_id("SPY", EXPIRY, TS.astimezone(est), "C", 600.0, "mispricing") == a
    assert anomaly_id("SPY", EXPIRY, TS, "C", 600, "mispricing") == a
    assert anomaly_id("SPY", EXPIRY, TS, "C", np.float64(600.0), "mispricing") == a
    assert anomaly_id("SPY", EXPIRY, TS + timedelta(microseconds=999), "C", 600.0, "mispricing") == a


_ID_ARGS = dict(underlying="SPY", expiry=EXPIRY, ts=TS, right="C", strike=600.0, type_="mispricing")
_ID_CHANGES = [
    ("underlying", "QQQ"),
    ("expiry", date(2026, 11, 25)),
    ("ts", TS + timedelta(milliseconds=1)),
    ("right", "P"),
    ("right", None),
    ("strike", 601.0),
    ("strike", 600.5),
    ("strike", None),
    ("type_", "parity"),
]


@pytest.mark.parametrize(("name", "value"), _ID_CHANGES, ids=[f"{n}={v!r}" for n, v in _ID_CHANGES])
def test_anomaly_id_changes_with_each_field(name: str, value: Any) -> None:
    base = anomaly_id(**_ID_ARGS)
    assert anomaly_id(**{**_ID_ARGS, name: value}) != base


def test_anomaly_ids_distinct_across_a_grid() -> None:
    ids = {
        anomaly_id(u, EXPIRY, TS + timedelta(milliseconds=ms), r, k, t)
        for u in ("SPY", "QQQ")
        for ms in (0, 1, 1000)
        for r in ("C", "P", None)
        for k in (600.0, 600.5, 601.0, None)
        for t in ANOMALY_TYPES
    }
    assert len(ids) == 2 * 3 * 3 * 4 * len(ANOMALY_TYPES)


def test_anomaly_gets_its_id() -> None:
    a = _anomaly()
    assert a.id == anomaly_id("SPY", EXPIRY, TS, "C", 600.0, "mispricing")
    assert _anomaly().id == a.id
    assert _anomaly(score=1.0, severity="low", edge=None).id == a.id  # id is about what, not how much


@pytest.mark.parametrize("type_", ANOMALY_TYPES)
@pytest.mark.parametrize("severity", SEVERITIES)
def test_anomaly_to_dict_validates(type_: str, severity: str) -> None:
    a = _anomaly(type=type_, severity=severity)
    d = a.to_dict()
    assert d["schema"] == ANOMALY_SCHEMA
    assert list(ANOMALY_VALIDATOR.iter_errors(d)) == []
    wire = orjson.loads(a.to_json())
    assert list(ANOMALY_VALIDATOR.iter_errors(wire)) == []
    assert wire["ts"] == "2026-11-24T15:30:00.000Z"


def test_snapshot_level_anomaly_validates() -> None:
    a = _anomaly(right=None, strike=None, type="data_error", edge=None, severity="medium",
                 data_quality={"grade": "degraded", "two_sided_share": 0.5, "notes": ["out of order"]})
    wire = orjson.loads(a.to_json())
    assert wire["right"] is None and wire["strike"] is None and wire["edge"] is None
    assert list(ANOMALY_VALIDATOR.iter_errors(wire)) == []


def test_anomaly_with_numpy_values_serialises() -> None:
    a = _anomaly(strike=np.float64(600.0), score=np.float64(2.123456), edge=np.float64(13.456))
    wire = orjson.loads(a.to_json())
    assert wire["score"] == 2.1235 and wire["edge"] == 13.46 and wire["strike"] == 600.0
    assert list(ANOMALY_VALIDATOR.iter_errors(wire)) == []


def test_anomaly_round_trip() -> None:
    a = _anomaly()
    b = Anomaly.from_dict(orjson.loads(a.to_json()))
    assert b.to_dict() == a.to_dict()
    assert b.id == a.id


def test_anomaly_rejects_bad_type_severity_score() -> None:
    with pytest.raises(ValueError, match="type"):
        _anomaly(type="weird")
    with pytest.raises(ValueError, match="severity"):
        _anomaly(severity="critical")
    for score in (math.nan, math.inf):
        with pytest.raises(ValueError, match="score"):
            _anomaly(score=score)


_ANOMALY_BREAKS = [
    ("schema", "anomaly/2"),
    ("id", "E9A2114158EC5BD1B3C5050D"),
    ("id", "e9a2114158ec5bd1"),
    ("ts", "2026-11-24T15:30:00Z"),
    ("ts", "2026-11-24T15:30:00.000+00:00"),
    ("expiry", "2026-11-24T00:00:00.000Z"),
    ("right", "CALL"),
    ("strike", 0),
    ("type", "weird"),
    ("score", None),
    ("score", "4.8"),
    ("severity", "critical"),
    ("edge", "13.5"),
    ("evidence", None),
    ("evidence", {"summary": "x", "state": "new", "first_seen": "2026-11-24T15:30:00.000Z"}),
    ("evidence", {"summary": "x", "state": "old", "first_seen": "2026-11-24T15:30:00.000Z", "rule": "r"}),
    ("evidence", {"summary": "", "state": "new", "first_seen": "2026-11-24T15:30:00.000Z", "rule": "r"}),
    ("evidence", {"summary": "x", "state": "new", "first_seen": "2026-11-24T15:30:00", "rule": "r"}),
    ("data_quality", {"grade": "excellent", "two_sided_share": 0.5}),
    ("data_quality", {"grade": "good", "two_sided_share": 1.5}),
    ("data_quality", {"grade": "good"}),
    ("data_quality", {"grade": "good", "two_sided_share": 0.5, "notes": "one"}),
    ("right", ...),
    ("edge", ...),
]


@pytest.mark.parametrize(("name", "value"), _ANOMALY_BREAKS, ids=[f"{n}={v!r}"[:50] for n, v in _ANOMALY_BREAKS])
def test_anomaly_schema_rejects(name: str, value: Any) -> None:
    d = orjson.loads(_anomaly().to_json())
    assert list(ANOMALY_VALIDATOR.iter_errors(d)) == []
    if value is ...:
        del d[name]
    else:
        d[name] = value
    assert list(ANOMALY_VALIDATOR.iter_errors(d)), f"anomaly schema accepted {name}={value!r}"


def test_anomaly_schema_allows_new_fields() -> None:
    d = orjson.loads(_anomaly().to_json())
    d["added_in_a_later_minor_version"] = 1
    d["evidence"]["z_score"] = 5.1
    assert list(ANOMALY_VALIDATOR.iter_errors(d)) == []


@pytest.mark.parametrize("example", ANOMALY_JSON_SCHEMA["examples"], ids=lambda e: e["type"])
def test_anomaly_schema_examples(example: dict) -> None:
    assert list(ANOMALY_VALIDATOR.iter_errors(example)) == []
    a = Anomaly.from_dict(example)
    assert a.id == anomaly_id(a.underlying, a.expiry, a.ts, a.right, a.strike, a.type) == example["id"]
    assert a.to_dict() == example


def test_iso_ms() -> None:
    assert iso_ms(datetime(2026, 11, 24, 15, 30, 0, 123999, tzinfo=timezone.utc)) == "2026-11-24T15:30:00.123Z"
    assert iso_ms(datetime(2026, 11, 24, 10, 30, tzinfo=timezone(timedelta(hours=-5)))) == "2026-11-24T15:30:00.000Z"


def test_schema_files_are_valid_draft_2020_12() -> None:
    for schema in (SNAPSHOT_JSON_SCHEMA, ANOMALY_JSON_SCHEMA):
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] and schema["title"] and schema["description"] and schema["examples"]
    assert SNAPSHOT_JSON_SCHEMA["title"] == SNAPSHOT_SCHEMA
    assert ANOMALY_JSON_SCHEMA["title"] == ANOMALY_SCHEMA
    assert ANOMALY_JSON_SCHEMA["properties"]["type"]["enum"] == list(ANOMALY_TYPES)
    assert ANOMALY_JSON_SCHEMA["properties"]["severity"]["enum"] == list(SEVERITIES)
