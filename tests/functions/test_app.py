"""Ingest and API against real Azurite, with real azure.functions objects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import base64

import azure.functions as func
import orjson
import pytest
from jsonschema import Draft202012Validator

from functions.http import EVERY_METHOD
from functions.openapi import document
from spyglass.wire.queue import encode_compact
from tests.functions.conftest import Out, get
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import shift


def queue_message(body: bytes | str, n: int = 1) -> func.QueueMessage:
    return func.QueueMessage(id=f"m{n}", body=body.encode() if isinstance(body, str) else body, pop_receipt="p")


def openapi_schema(path: str, status: str = "200") -> Draft202012Validator:
    doc = document()
    op = doc["paths"][path]["get"]["responses"][status]
    if "$ref" in op:
        op = doc["components"]["responses"][op["$ref"].split("/")[-1]]
    schema = {**op["content"]["application/json"]["schema"], "components": doc["components"]}
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def scored(app):
    """A chain with a lasting mispricing at C 602 (one incident) and a volume burst, ingested message by message."""
    kit = ChainKit(seed=9)
    events = {s: shift("C", 602, 0.12, kit) for s in range(20, 30)}
    events[40] = {"volume_add": {kit.index("C", 600): 3000}}
    published = []
    for n, snap in enumerate(kit.stream(T0, 45, events)):
        d = snap.to_dict()
        d["seq"] = n
        out = Out()
        body = encode_compact(orjson.dumps(d)) if n % 2 else orjson.dumps(d).decode()  # both encodings
        app["ingest"](queue_message(body, n), out)
        published += orjson.loads(out.value or "[]")
    return published


def test_ingest_publishes_anomalies_and_chains(scored):
    targets = {m["target"] for m in scored}
    assert {"anomaly", "chain"} <= targets
    anomalies = [m["arguments"][0] for m in scored if m["target"] == "anomaly"]
    assert {a["type"] for a in anomalies} == {"mispricing"}  # the volume spike at 40 s comes before baselines mature
    assert all({f["type"] for f in a["facets"]} == {"parity", "arbitrage", "iv_jump"} for a in anomalies)  # incidents


def test_api_lists_what_ingest_stored_and_matches_openapi(app, scored):
    r = app["list_anomalies"](get("anomalies", since="2026-11-24T00:00:00Z", until="2026-11-24T23:00:00Z"))
    assert r.status_code == 200
    body = orjson.loads(r.get_body())
    openapi_schema("/anomalies").validate(body)
    published = {m["arguments"][0]["id"] for m in scored if m["target"] == "anomaly"}
    assert {a["id"] for a in body["items"]} == published
    one = body["items"][0]
    r = app["get_anomaly"](func.HttpRequest("GET", f"http://l/api/anomalies/{one['id']}", body=b"",
                                            route_params={"id": one["id"]}))
    assert r.status_code == 200 and orjson.loads(r.get_body()) == one


def test_duplicate_delivery_gives_one_anomaly(app, scored):
    kit = ChainKit(seed=9)
    snaps = list(kit.stream(T0, 45))
    d = snaps[25].to_dict()
    d["seq"] = 25
    out = Out()
    app["ingest"](queue_message(orjson.dumps(d).decode(), 99), out)  # already applied: skipped
    assert out.value is None
    r = app["list_anomalies"](get("anomalies", since="2026-11-24T00:00:00Z", until="2026-11-24T23:00:00Z",
                                  type="mispricing"))
    assert orjson.loads(r.get_body())["count"] == len(
        [m for m in scored if m["target"] == "anomaly" and m["arguments"][0]["type"] == "mispricing"])


def test_paging_with_continuation_covers_everything_once(app, scored):
    seen, token = [], None
    while True:
        params = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-24T23:00:00Z", "limit": "2"}
        if token:
            params["continuation"] = token
        body = orjson.loads(app["list_anomalies"](get("anomalies", **params)).get_body())
        assert "count" in body, body
        assert body["count"] <= 2
        seen += [a["id"] for a in body["items"]]
        token = body["continuation"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == len([m for m in scored if m["target"] == "anomaly"])


@pytest.mark.parametrize("params", [
    {"type": "mispricing' or '1' eq '1"},
    {"severity": "high' or PartitionKey ne 'x"},
    {"underlying": "SPY' or 1 eq 1 or 'a"},
    {"since": "2026-11-24T00:00:00Z' or ''='"},
    {"limit": "5000"},
    {"min_strike": "1 or 1 eq 1"},
    {"until": "0001-01-01T00:00:00Z"},
    {"since": "9999-12-31T23:59:59Z"},
    {"underlying": ""},
    {"until": ""},
    {"continuation": base64.urlsafe_b64encode(b'{"pk": "SPY-20261124", "rk": "0"}').decode()},
])
def test_bad_and_injected_parameters_get_400_with_a_message(app, scored, params):
    r = app["list_anomalies"](get("anomalies", **params))
    assert r.status_code == 400
    body = orjson.loads(r.get_body())
    openapi_schema("/anomalies", "400").validate(body)
    assert body["error"]["message"]


def test_chain_latest_and_at(app, scored):
    latest = orjson.loads(app["chain_latest"](get("chain/latest")).get_body())
    openapi_schema("/chain/latest").validate(latest)
    assert latest["ts"] == "2026-11-24T17:00:44.000Z"
    at = orjson.loads(app["chain_at"](get("chain", at="2026-11-24T17:00:10.500Z")).get_body())
    assert at["ts"] == "2026-11-24T17:00:10.000Z"
    assert app["chain_at"](get("chain", at="2026-11-24T16:00:00Z")).status_code == 404
    assert app["chain_at"](get("chain", at="noon")).status_code == 400


def test_chain_history_is_the_day_as_a_series(app, scored):
    every_10 = orjson.loads(app["chain_history"](get("chain/history", since="2026-11-24T16:59:00Z",
                                                     until="2026-11-24T17:05:00Z", every="10")).get_body())
    openapi_schema("/chain/history").validate(every_10)
    assert [p["ts"][11:19] for p in every_10["items"]] == ["17:00:09", "17:00:19", "17:00:29", "17:00:39",
                                                           "17:00:44"]  # the newest of each 10 s, oldest first
    assert all(0.05 < p["atm_iv"] < 0.5 and p["spot"] > 0 and p["gex_total"] is not None for p in every_10["items"])
    latest = orjson.loads(app["chain_latest"](get("chain/latest")).get_body())
    assert every_10["items"][-1]["atm_iv"] == latest["atm_iv"]  # the same numbers as the full document
    each = orjson.loads(app["chain_history"](get("chain/history", since="2026-11-24T17:00:05Z",
                                                 until="2026-11-24T17:00:14.500Z", every="1")).get_body())
    assert [p["ts"][17:19] for p in each["items"]] == [f"{s:02d}" for s in range(5, 15)]
    fitted = orjson.loads(app["chain_history"](get("chain/history", since="2026-11-24T16:00:00Z",
                                                   until="2026-11-24T17:05:00Z", points="9")).get_body())
    assert fitted["every"] == 5 and fitted["count"] == 9  # 44 s of data in ~9 points, not 65 min of window
    for bad in ({"every": "0"}, {"points": "0"}, {"points": "5001"}, {"every": "1.5"}, {"since": "noon"}, {"expiry": "2026-13-01"},
                {"since": "2026-11-24T18:00:00Z", "until": "2026-11-24T17:00:00Z"},
                {"since": "2026-11-20T00:00:00Z", "until": "2026-11-24T17:00:00Z"}):
        r = app["chain_history"](get("chain/history", **bad))
        assert r.status_code == 400 and orjson.loads(r.get_body())["error"]["message"], bad


def test_health_names_nothing_stored_and_chains_say_how_fresh_each_underlying_is(app, scored):
    body = orjson.loads(app["health"](get("health")).get_body())
    openapi_schema("/health").validate(body)
    assert set(body) == {"status", "storage", "version"} and body["status"] == "ok"
    chains = orjson.loads(app["list_chains"](get("chains")).get_body())
    openapi_schema("/chains").validate(chains)
    spy = next(c for c in chains["items"] if c["underlying"] == "SPY")
    assert spy["expiry"] == "2026-11-24" and spy["ts"] == "2026-11-24T17:00:44.000Z" and spy["age_seconds"] > 0
    ages = [c["age_seconds"] for c in chains["items"]]
    assert ages == sorted(ages)  # freshest first


EXTREMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "2099-12-31T23:59:59Z",
            "1900-01-01T00:00:00+23:59", "2099-12-31T23:59:59-23:59", ""]


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize(("function", "path", "name"), [
    ("chain_at", "chain", "at"), ("list_anomalies", "anomalies", "since"), ("list_anomalies", "anomalies", "until"),
    ("chain_history", "chain/history", "since"), ("chain_history", "chain/history", "until"),
    ("list_signals", "signals", "since")])
def test_extreme_dates_get_an_answer_never_a_server_error(app, scored, function, path, name, value):
    r = app[function](get(path, **{name: value}))
    body = orjson.loads(r.get_body())
    assert r.status_code in (200, 400, 404), (r.status_code, body)
    status = str(r.status_code)
    doc = document()["paths"]["/" + path]["get"]["responses"]
    assert status in doc
    openapi_schema("/" + path, status).validate(body)
    if value in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", ""):
        assert r.status_code == 400 and name in body["error"]["message"]


def test_chain_at_before_1970_finds_nothing_rather_than_the_newest(app, scored):
    r = app["chain_at"](get("chain", at="1900-01-01T00:00:00Z", expiry="2026-11-24"))
    assert r.status_code == 404


def test_signals_say_where_the_list_starts(app, scored):
    body = orjson.loads(app["list_signals"](get("signals", since="1900-01-01T00:00:00Z")).get_body())
    openapi_schema("/signals").validate(body)
    assert datetime.fromisoformat(body["since"].replace("Z", "+00:00")) > datetime.now(timezone.utc) - timedelta(days=8)


def _functions(app) -> dict:
    import function_app

    from tests.functions.conftest import _functions as indexed
    return {f.get_function_name(): f for f in indexed(function_app.app)}


def test_every_route_takes_every_method_and_answers_the_wrong_ones_with_405(app):
    """The host would answer a method the binding omits with 404, so every binding lists them all."""
    doc = document()["paths"]
    routes = {}
    for name, f in _functions(app).items():
        trigger = next((b for b in f.get_bindings_dict()["bindings"] if b["type"] == "httpTrigger"), None)
        if trigger is None:
            continue
        assert {str(getattr(m, "value", m)) for m in trigger["methods"]} == set(EVERY_METHOD), name
        routes["/" + trigger["route"]] = f.get_user_function()
    assert set(routes) == set(doc)
    for path, handler in routes.items():
        assert {m.upper() for m in doc[path]} == set(handler.allowed), path
        for method in EVERY_METHOD:
            if method in handler.allowed:
                continue
            req = func.HttpRequest(method, f"http://l/api{path}", body=b"", route_params={"id": "0" * 24})
            r = handler(req, connection_info="{}") if path == "/negotiate" else handler(req)
            assert r.status_code == 405 and r.headers["Allow"] == ", ".join(handler.allowed), (path, method)
            assert "not allowed" in orjson.loads(r.get_body())["error"]["message"]


def test_malformed_message_raises_with_the_reason(app):
    with pytest.raises(Exception, match="invalid chain-snapshot/1"):
        app["ingest"](queue_message('{"schema":"chain-snapshot/1"}'), Out())


def test_a_chain_with_a_state_row_and_no_snapshot_yet_is_a_404_not_a_500(app):
    from functions import storage
    from functions.settings import settings
    from functions.chainstate import STATE_ROW

    storage.table(settings().chainstate_table).upsert_entity({"PartitionKey": "XLP-20261124", "RowKey": STATE_ROW,
                                                              "parked": 1})  # first snapshots still parked
    response = app["chain_latest"](get("chain/latest", underlying="XLP"))
    assert response.status_code == 404 and b"no snapshot of XLP yet" in response.get_body()
