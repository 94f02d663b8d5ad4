"""Outcomes through ingest, SignalR, the anomalies table and the API (real Azurite, real azure.functions
objects): each horizon merged into its alert's row as it passes, and a redelivery changes none."""

from __future__ import annotations

import azure.functions as func
import orjson
import pytest

from functions import storage
from functions.settings import settings
from tests.functions.conftest import Out, get
from tests.functions.test_app import openapi_schema, queue_message
from tests.spyglass.chainkit import ChainKit, T0
from tests.spyglass.test_contract import ANOMALY_VALIDATOR

UNDERLYING = "IWM"  # a chain of its own in the shared Azurite


def session_docs() -> list[dict]:
    """C 601 quoted 10 cents rich for seconds 4-7, then at fair; 40 snapshots a second apart."""
    kit = ChainKit(seed=5, underlying=UNDERLYING)
    i = kit.index("C", 601)

    def rich(q, *_):
        q["bid"][i] += 0.10
        q["ask"][i] += 0.10

    return [{**s.to_dict(), "seq": n} for n, s in enumerate(kit.stream(T0, 40, {s: {"mutate": rich}
                                                                             for s in range(4, 8)}))]


def feed(app, docs: list[dict]) -> list[dict]:
    """The SignalR messages ingest handed on, in order."""
    messages: list[dict] = []
    for n, doc in enumerate(docs):
        sink = Out()
        app["ingest"](queue_message(orjson.dumps(doc).decode(), n), sink)
        messages += orjson.loads(sink.value or "[]")
    return messages


@pytest.fixture(scope="module")
def fed(app) -> tuple[list[dict], list[dict]]:
    docs = session_docs()
    return docs, feed(app, docs)


def alert(messages: list[dict]) -> dict:
    (a,) = [m["arguments"][0] for m in messages if m["target"] == "anomaly"
            and m["arguments"][0]["type"] == "mispricing" and m["arguments"][0]["evidence"]["state"] == "new"]
    return a


def test_each_horizon_is_announced_as_it_passes(fed):
    _, messages = fed
    a = alert(messages)
    outcomes = [m["arguments"][0] for m in messages if m["target"] == "outcome"]
    assert [(o["anomaly_id"], o["horizon"], o["status"]) for o in outcomes] == [(a["id"], "5s", "ok"),
                                                                                (a["id"], "30s", "ok")]
    assert all(o["mid"] > 0 and o["reverted_s"] > 0 for o in outcomes)


def test_the_api_gives_the_alert_with_its_outcome(app, fed):
    _, messages = fed
    a = alert(messages)
    request = func.HttpRequest("GET", f"http://l/api/anomalies/{a['id']}", body=b"", route_params={"id": a["id"]})
    body = orjson.loads(app["get_anomaly"](request).get_body())
    assert set(body["outcome"]) == {"5s", "30s"} and body["outcome"]["5s"]["status"] == "ok"
    ANOMALY_VALIDATOR.validate(body)
    openapi_schema("/anomalies/{id}").validate(body)
    assert {k: v for k, v in body.items() if k != "outcome"} == a  # the alert itself is as it was published


def test_a_redelivery_changes_no_outcome(app, fed):
    docs, messages = fed
    a = alert(messages)
    table = storage.table(settings().anomalies_table)
    before = list(table.query_entities("id eq @id", parameters={"id": a["id"]}))
    again = feed(app, docs[3:12])  # delivered a second time, the alert's snapshot and its 5 s horizon included
    assert [m for m in again if m["target"] == "outcome"] == []
    after = list(table.query_entities("id eq @id", parameters={"id": a["id"]}))
    assert [dict(e) for e in after] == [dict(e) for e in before]


WINDOW = {"since": "2026-11-24T00:00:00Z", "until": "2026-11-24T23:00:00Z", "underlying": UNDERLYING}


def test_the_summary_grades_the_alert_types_by_horizon(app, fed):
    _, messages = fed
    marks = {m["arguments"][0]["horizon"]: m["arguments"][0] for m in messages if m["target"] == "outcome"}
    r = app["outcomes_summary"](get("outcomes/summary", **WINDOW))
    body = orjson.loads(r.get_body())
    openapi_schema("/outcomes/summary").validate(body)
    graded = {(g["type"], g["severity"], g["horizon"]): g for g in body["items"]}
    severity = alert(messages)["severity"]
    for horizon in ("5s", "30s"):
        for key in (("mispricing", "all", horizon), ("mispricing", severity, horizon)):
            g = graded[key]
            assert (g["n"], g["missing"], g["share_positive"]) == (1, 0, 1.0)
            assert g["mean"] == g["median"] == marks[horizon]["mid"] and g["ci_low"] is None  # one alert: no interval
    assert body["truncated"] is False and body["alerts_read"] >= 1
    only = orjson.loads(app["outcomes_summary"](get("outcomes/summary", **WINDOW, type="parity")).get_body())
    assert only["items"] == []


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "2026-01-01T00:00:00Z", "until": "2026-11-24T00:00:00Z"}, "at most 31 days apart"),
    ({"type": "rich"}, "type"), ({"limit": "5"}, "unknown parameter"), ({"until": "noon"}, "until"),
])
def test_the_summary_validates_its_parameters(app, params, message):
    r = app["outcomes_summary"](get("outcomes/summary", **params))
    assert r.status_code == 400 and message in orjson.loads(r.get_body())["error"]["message"]
