"""The table rows both ends read: keys, the anomaly row and back, the one signals-since query."""

from __future__ import annotations

from datetime import timedelta

import orjson

from spyglass.contract import Anomaly
from spyglass.wire import tables
from tests.spyglass.chainkit import T0

SINGLE = Anomaly(underlying="SPY", expiry=T0.date(), ts=T0, right="C", strike=600.0, type="mispricing", score=4.8125,
                 severity="high", edge=13.5, evidence={"summary": "rich", "state": "new", "rule": "mispricing.x"},
                 data_quality={"grade": "good", "two_sided_share": 0.97})


def test_a_row_without_facets_is_the_same_row_as_before_incidents():
    assert tables.anomaly_entity(SINGLE) == {
        "PartitionKey": "SPY-20261124", "RowKey": f"1795539600000-{SINGLE.id}", "id": SINGLE.id,
        "underlying": "SPY", "expiry": "2026-11-24", "ts": T0, "type": "mispricing", "severity": "high",
        "score": 4.8125, "state": "new", "evidence": '{"summary":"rich","state":"new","rule":"mispricing.x"}',
        "data_quality": '{"grade":"good","two_sided_share":0.97}', "right": "C", "strike": 600.0, "edge": 13.5}
    assert tables.entity_anomaly(tables.anomaly_entity(SINGLE)) == SINGLE.to_dict()


def test_an_incident_row_keeps_its_facets_and_flags_each_facet_type():
    facets = tuple({"type": t, "rule": f"{t}.x", "score": 2.0, "severity": "medium", "edge": 3.0, "summary": t,
                    "evidence": {"n": 1}} for t in ("parity", "arbitrage"))
    incident = Anomaly.from_dict({**SINGLE.to_dict(), "facets": list(facets)})
    row = tables.anomaly_entity(incident)
    assert {k: v for k, v in row.items() if k not in tables.anomaly_entity(SINGLE)} == {
        "facets": orjson.dumps(list(facets)).decode(), "facet_parity": True, "facet_arbitrage": True}
    assert tables.entity_anomaly(row) == incident.to_dict()


def test_the_signals_since_query_is_a_fixed_template_and_the_input_only_parameters():
    hostile = "SPY' or PartitionKey ne '"
    flt, params = tables.rows_since(hostile, T0, T0 + timedelta(days=1))
    assert flt == tables.SIGNALS_SINCE and "'" not in flt and hostile not in flt
    assert params == {"pk_lo": f"{hostile}-20261124", "pk_hi": f"{hostile}-20261125", "rk": "1795539600000"}


def test_analytics_rows_round_trip_and_keep_the_series_columns():
    analytics = {"ts": "2026-11-24T17:00:00.000Z", "underlying": "SPY", "expiry": "2026-11-24", "spot": 600.0,
                 "atm_iv": 0.12, "gex": {"total": -3.5}, "seq": 2**63 + 5, "smile": list(range(30_000))}
    row = tables.analytics_entity(analytics, "s1", late="behind")
    assert row["PartitionKey"] == tables.chain_partition("SPY", "2026-11-24") == "SPY-20261124"
    assert row["RowKey"] == tables.inverted_row(T0)
    assert (row["spot"], row["atm_iv"], row["gex_total"], row["seq"]) == (600.0, 0.12, -3.5, str(2**63 + 5))
    assert (row["session"], row["late"]) == ("s1", "behind") and "enqueued" not in row
    assert all(len(v) <= tables.PROPERTY_LIMIT for k, v in row.items() if k.startswith("analytics"))
    assert tables.entity_analytics(row) == analytics
