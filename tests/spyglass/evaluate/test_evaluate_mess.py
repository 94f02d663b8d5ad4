"""The evaluation's measures of a messy feed, on hand-made labels and anomalies."""

from __future__ import annotations

import json

import pytest

from spyglass.evaluate import combine, evaluate, evaluate_days, size_bucket
from spyglass.labels import make_label

from .test_evaluate import anomaly, at, label


def stale_label(right, strike, start, end, material_from=-1, block="B1"):
    detail = {"interval_s": 1.0, "block": block, "age_field": True,
              "material_from": None if material_from is None else at(max(material_from, start)).isoformat()}
    return make_label(id=f"S{right}{strike}{start}", type="data_error", subtype="stale_quote", underlying="SPY",
                      expiry="2026-11-23", right=right, strike=strike, start=at(start), end=at(end), detail=detail)


def sized(type_, strike, start, **detail):
    return make_label(id=f"Z{type_}{strike}{start}", type=type_, subtype=None, underlying="SPY",
                      expiry="2026-11-23", right="C", strike=strike, start=at(start), end=at(start + 5),
                      detail={"interval_s": 1.0, **detail})


def test_clean_day_false_alarms_per_hour_market_and_data_apart():
    anomalies = [anomaly("mispricing", "C", 600.0, 10), anomaly("volume_spike", "P", 598.0, 20),
                 anomaly("iv_jump", "C", 601.0, 30, first_seen=30), anomaly("iv_jump", "C", 601.0, 31, first_seen=30),
                 anomaly("data_error", "C", 602.0, 40)]
    r = evaluate([], anomalies, 1.0, hours=2.0)
    assert (r.clean.days, r.clean.market_events, r.clean.data_error_events) == (1, 3, 1)
    assert r.clean.market_per_hour == 1.5 and r.clean.data_error_per_hour == 0.5
    assert r.clean.by_type == {"mispricing": 1, "volume_spike": 1, "iv_jump": 1, "data_error": 1}
    assert r.fp_per_hour(True) == 1.5 and r.fp_per_hour(False) == 0.5
    assert "clean days: 1 (2.00 h), false alarms per hour: market 1.50, data errors 0.50" in r.to_text()
    labelled = evaluate([label("mispricing", "C", 600.0, 0, 10)], anomalies, 1.0, hours=2.0)
    assert labelled.clean.days == 0 and "clean days" not in labelled.to_text()


def test_stale_lines_reported_as_market_anomalies():
    labels = [stale_label("C", 600.0, 0, 10), stale_label("P", 600.0, 0, 10)]
    anomalies = [
        anomaly("mispricing", "C", 600.0, 2, first_seen=2),
        anomaly("mispricing", "C", 600.0, 5, first_seen=2, state="continuing"),  # covers 2..5 on C 600
        anomaly("parity", None, 600.0, 8),  # a null right covers both legs: 8 on C and on P
        anomaly("iv_jump", "C", 600.0, 4),  # also at 4 on C: one line-snapshot, two types
        anomaly("mispricing", "C", 600.0, 11),  # after the freeze
        anomaly("mispricing", "C", 601.0, 3),  # another strike
        anomaly("data_error", "C", 600.0, 1),  # not a market anomaly (and it detects the label)
        anomaly("volume_spike", "P", 600.0, 12, first_seen=9),  # first record after the end: covers nothing
    ]
    r = evaluate(labels, anomalies, 1.0)
    st = r.stale
    assert (st.labels, st.unnoticeable, st.line_snapshots) == (2, 0, 22)
    assert st.as_market == 4 + 1 + 1  # C 2..5, C 8, P 8
    assert st.share == pytest.approx(6 / 22)
    assert st.by_type == {"mispricing": 4, "parity": 2, "iv_jump": 1}
    assert "6 of 22 frozen line-snapshots (27.27%)" in r.to_text()
    assert r.by_subtype["data_error/stale_quote"] == {"labels": 2, "detected": 1}
    d = r.to_dict()["stale_as_market"]
    assert d["as_market"] == 6 and d["share"] == round(6 / 22, 4)


def test_stale_lines_nobody_could_see_are_neither_missed_nor_false_alarms():
    labels = [stale_label("C", 600.0, 0, 10, material_from=None), stale_label("P", 600.0, 0, 10, material_from=4)]
    r = evaluate(labels, [anomaly("data_error", "C", 600.0, 3)], 1.0)
    d = r.by_type["data_error"]
    assert (d.labels, d.tp, d.fn, d.fp, d.explained_events) == (1, 0, 1, 0, 1)
    assert r.missed == [labels[1]["id"]]
    assert (r.stale.labels, r.stale.unnoticeable, r.stale.line_snapshots) == (2, 1, 22)
    assert r.by_subtype == {"data_error/stale_quote": {"labels": 1, "detected": 0}}


def test_recall_by_size_bucket():
    labels = [
        sized("mispricing", 600.0, 0, edge_ticks=2.4),
        sized("mispricing", 601.0, 0, edge_ticks=2.0),
        sized("mispricing", 602.0, 0, edge_ticks=3.9),
        sized("mispricing", 603.0, 0, edge_per_share=0.071),  # older labels: dollars per share, 7 ticks
        sized("volume_spike", 604.0, 0, multiple=8.0),
        sized("volume_spike", 605.0, 0, multiple=11.99),
        sized("volume_spike", 606.0, 0, multiple=12.0),
        sized("volume_spike", 607.0, 0, multiple=150.0),
    ]
    assert [size_bucket(lb) for lb in labels] == ["2", "2", "3-4", "5+", "8-12", "8-12", "12-20", "20+"]
    anomalies = [anomaly("mispricing", "C", 600.0, 1), anomaly("mispricing", "C", 603.0, 1),
                 anomaly("volume_spike", "C", 605.0, 1), anomaly("volume_spike", "C", 607.0, 1)]
    r = evaluate(labels, anomalies, 1.0)
    m, v = r.by_size["mispricing"], r.by_size["volume_spike"]
    assert m["2"] == {"labels": 2, "detected": 1} and m["3-4"] == {"labels": 1, "detected": 0}
    assert m["5+"] == {"labels": 1, "detected": 1} and m["<2"] == {"labels": 0, "detected": 0}
    assert v["8-12"] == {"labels": 2, "detected": 1} and v["12-20"]["detected"] == 0 and v["20+"]["detected"] == 1
    assert r.to_dict()["by_size"]["mispricing"]["2"]["recall"] == 0.5
    assert "mispricing recall by size: 2 1/2, 3-4 0/1, 5+ 1/1" in r.to_text()


def test_days_are_scored_apart_and_summed():
    """Two days with the same clock: a label of one never matches an event of the other."""
    day1 = ([label("mispricing", "C", 600.0, 0, 10), stale_label("P", 601.0, 0, 4)],
            [anomaly("mispricing", "C", 600.0, 2), anomaly("mispricing", "P", 601.0, 3)], 1.0)
    day2 = ([], [anomaly("mispricing", "C", 600.0, 2), anomaly("data_error", "P", 601.0, 3)], 0.5)
    r = evaluate_days([day1, day2])
    m = r.by_type["mispricing"]
    assert (m.labels, m.tp, m.fp, m.events) == (1, 1, 2, 3)
    assert r.days == 2 and r.hours == 1.5 and r.hours_source == "sum of 2 days"
    assert m.false_alarms_per_hour == pytest.approx(2 / 1.5)
    assert (r.clean.days, r.clean.hours, r.clean.market_events, r.clean.data_error_events) == (1, 0.5, 1, 1)
    assert (r.stale.line_snapshots, r.stale.as_market) == (5, 1)
    assert r.total.labels == 2 and r.total.tp == 1 and r.total.fn == 1
    assert r.by_subtype["data_error/stale_quote"] == {"labels": 1, "detected": 0}
    single = combine([evaluate(*day1[:2], hours=1.0)])
    assert single.days == 1 and single.to_dict()["total"] == evaluate(*day1[:2], hours=1.0).to_dict()["total"]
    text = r.to_text()
    assert "2 days" in text and "false alarms per hour: market 1.33, data errors 0.67" in text
    json.dumps(r.to_dict())
    with pytest.raises(ValueError):
        combine([])
