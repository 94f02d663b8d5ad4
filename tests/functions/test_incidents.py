"""Incidents and chain-level findings through ingest, SignalR, the tables and the API (real Azurite, real
azure.functions objects).

One session: a call quoted rich (one incident: mispricing with its parity, arbitrage and iv_jump
facets), one crossed quote (a contract-level data error), ATM vol up 3 points at once (a
chain-level iv_jump: the smile repriced), then a near-the-money block that freezes while spot
climbs (a chain-level stale_quote data error naming the lines).
"""

from __future__ import annotations

from datetime import timedelta

import azure.functions as func
import orjson
import pytest

from jsonschema import ValidationError

from functions import storage
from functions.openapi import SCHEMAS, document
from functions.settings import settings
from spyglass.contract import Anomaly
from spyglass.wire import tables
from tests.functions.conftest import Out, get
from tests.functions.test_app import openapi_schema, queue_message
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_bad_quotes import freeze
from tests.spyglass.test_contract import ANOMALY_VALIDATOR

RICH = ("C", 602.0)
CROSSED = ("P", 590.0)
FROZEN = [("C", k) for k in range(597, 606)] + [("P", k) for k in range(595, 604)]
UNDERLYING = "QQQ"  # apart from test_app's SPY chain, whose state the ingest process may remember
WINDOW = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-24T23:00:00Z", "underlying": UNDERLYING}


def session_docs() -> list[dict]:
    kit = ChainKit(seed=9, underlying=UNDERLYING)
    rich, crossed = kit.index(*RICH), kit.index(*CROSSED)
    frozen = freeze(kit, FROZEN, 16, with_age=True)  # the block keeps its quotes, and the feed says how old they are
    docs = []
    for s in range(32):
        if s == 13:
            kit.atm += 0.03
        if s >= 16:
            kit.spot = 600.0 + 0.1 * (s - 16)

        def mutate(q, *args, s=s):
            if 4 <= s < 10:  # rich by $10 a contract after the spread and fees: a signal
                q["bid"][rich] += 0.14
                q["ask"][rich] += 0.14
            if s == 12:
                q["bid"][crossed] = q["ask"][crossed] + 0.05
            if s >= 16:
                frozen(s)(q, *args)

        doc = kit.snapshot(T0 + timedelta(seconds=s), mutate=mutate).to_dict()
        docs.append({**doc, "seq": s})
    return docs


@pytest.fixture(scope="module")
def published(app) -> list[dict]:
    """The anomaly messages ingest handed to SignalR, in order."""
    out: list[dict] = []
    for n, doc in enumerate(session_docs()):
        sink = Out()
        app["ingest"](queue_message(orjson.dumps(doc).decode(), n), sink)
        out += [m["arguments"][0] for m in orjson.loads(sink.value or "[]") if m["target"] == "anomaly"]
    return out


def _incident(found: list[dict]) -> dict:
    (one,) = [a for a in found if a.get("facets")]
    return one


def _types(a: dict) -> set[str]:
    return {a["type"], *(f["type"] for f in a.get("facets", ()))}


def test_signalr_carries_each_record_as_scored_facets_and_chain_level_findings_included(published):
    for a in published:
        assert not list(ANOMALY_VALIDATOR.iter_errors(a)), a["id"]
        assert Anomaly.from_dict(a).to_dict() == a  # the record as is, nothing added or dropped
    incident = _incident(published)
    assert (incident["type"], incident["right"], incident["strike"]) == ("mispricing", *RICH)
    assert {f["type"] for f in incident["facets"]} == {"parity", "arbitrage", "iv_jump"}
    assert all(f["summary"] and f["rule"] and isinstance(f["evidence"], dict) for f in incident["facets"])
    assert len([a for a in published if (a["right"], a["strike"]) == RICH]) == 1  # one event, one alert
    chain = {(a["type"], a["evidence"]["rule"]): a for a in published if a["strike"] is None}
    stale = chain[("data_error", "data_error.chain_event")]
    assert stale["right"] is None and stale["evidence"]["subtype"] == "stale_quote"
    assert stale["evidence"]["count"] == len(stale["evidence"]["contracts"]) >= 5
    assert set(stale["evidence"]["contracts"]) <= {f"{r} {k}" for r, k in FROZEN}
    assert ("iv_jump", "iv_jump.smile_shift") in chain
    crossed = [a for a in published if (a["right"], a["strike"]) == CROSSED]
    assert [(a["type"], a["evidence"]["subtype"]) for a in crossed] == [("data_error", "crossed")]


def test_the_api_returns_what_was_published_and_openapi_describes_it(app, published):
    r = app["list_anomalies"](get("anomalies", **WINDOW))
    body = orjson.loads(r.get_body())
    openapi_schema("/anomalies").validate(body)
    # facets survive the table; outcomes are added to the rows as their horizons pass (tests/functions/test_outcomes.py)
    assert {a["id"]: _published(a) for a in body["items"]} == {a["id"]: a for a in published}
    for a in (_incident(published), next(a for a in published if a["strike"] is None)):
        one = app["get_anomaly"](func.HttpRequest("GET", f"http://l/api/anomalies/{a['id']}", body=b"",
                                                  route_params={"id": a["id"]}))
        got = orjson.loads(one.get_body())
        openapi_schema("/anomalies/{id}").validate(got)
        assert _published(got) == a


def _published(a: dict) -> dict:
    return {k: v for k, v in a.items() if k != "outcome"}


def test_openapi_describes_facets_as_the_contract_does_and_says_how_the_type_filter_treats_them(published):
    doc = document()
    contract = orjson.loads((SCHEMAS / "anomaly-1.schema.json").read_bytes())
    schema = doc["components"]["schemas"]["Anomaly"]
    assert schema["properties"]["facets"] == contract["properties"]["facets"] and "facets" not in schema["required"]
    (type_param,) = [p for p in doc["paths"]["/anomalies"]["get"]["parameters"] if p["name"] == "type"]
    assert "facets" in type_param["description"] and "primary type" in type_param["description"]
    broken = {**_incident(published), "facets": [{**_incident(published)["facets"][0], "type": "rumour"}]}
    with pytest.raises(ValidationError):  # the document checks facets, so the tests above check them too
        openapi_schema("/anomalies").validate({"items": [broken], "count": 1, "continuation": None})


@pytest.mark.parametrize("type_", ["mispricing", "parity", "arbitrage", "iv_jump", "data_error", "volume_spike"])
def test_a_type_filter_finds_an_incident_by_its_primary_type_or_any_facet(app, published, type_):
    body = orjson.loads(app["list_anomalies"](get("anomalies", type=type_, **WINDOW)).get_body())
    openapi_schema("/anomalies").validate(body)
    assert sorted(a["id"] for a in body["items"]) == sorted(a["id"] for a in published if type_ in _types(a))
    incident = _incident(published)
    assert (incident["id"] in {a["id"] for a in body["items"]}) == (type_ in _types(incident))


def test_a_type_filter_still_pages_with_its_token(app, published):
    seen, token = [], None
    while True:
        params = {**WINDOW, "type": "iv_jump", "limit": "1", **({"continuation": token} if token else {})}
        body = orjson.loads(app["list_anomalies"](get("anomalies", **params)).get_body())
        seen += [a["id"] for a in body["items"]]
        token = body["continuation"]
        if not token:
            break
    assert sorted(seen) == sorted(a["id"] for a in published if "iv_jump" in _types(a)) and len(seen) >= 2


def test_the_incident_is_a_signal_stored_with_its_facets(app, published):
    rows = storage.table(settings().signals_table).query_entities("underlying eq @u", parameters={"u": UNDERLYING})
    signals = [tables.entity_anomaly(e) for e in rows]
    assert signals == [_incident(published)]  # chain-level findings and data errors are never signals
    openapi_schema("/signals").validate({"items": signals, "count": 1, "since": "2026-11-24T00:00:00.000Z"})

