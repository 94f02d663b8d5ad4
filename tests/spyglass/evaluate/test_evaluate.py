from __future__ import annotations

from spyglass.jsonl import read_records

import datetime as dt
import json

import pytest

from spyglass.evaluate import evaluate, evaluate_files, group_events
from spyglass.labels import make_label
from spyglass.sim import InjectionConfig, SimConfig, write_day

from tests.spyglass.simdays import MONDAY

T0 = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def iso(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%S.000Z")


_ids = iter(range(1, 10**6))


def label(type_, right, strike, start, end, implies=(), subtype=None):
    return make_label(
        id=f"L{next(_ids)}", type=type_, subtype=subtype, underlying="SPY", expiry="2026-11-23",
        right=right, strike=strike, start=at(start), end=at(end), implies=implies, detail={"interval_s": 1.0},
    )


def anomaly(type_, right, strike, seconds, first_seen=None, state="new"):
    ev = {} if first_seen is None else {"state": state, "first_seen": iso(first_seen)}
    return {"schema": "anomaly/1", "id": f"a{type_}{strike}{seconds}", "underlying": "SPY", "expiry": "2026-11-23",
            "ts": iso(seconds), "right": right, "strike": strike, "type": type_, "score": 1.0,
            "severity": "low", "edge": None, "evidence": ev, "data_quality": {}}


@pytest.fixture()
def case():
    labels = [
        label("mispricing", "C", 600.0, 0, 10, implies=("iv_jump", "parity")),
        label("arbitrage", "C", 601.0, 60, 65, implies=("mispricing",), subtype="butterfly"),
        label("data_error", None, None, 120, 121, subtype="stale"),
        label("volume_spike", "P", 598.0, 180, 180),
        label("parity", None, 599.0, 240, 260),
    ]
    anomalies = [
        anomaly("mispricing", "C", 600.0, 2, first_seen=2),
        anomaly("mispricing", "C", 600.0, 5, first_seen=2, state="continuing"),  # same event
        anomaly("iv_jump", "C", 600.0, 0),  # explained by L1
        anomaly("parity", None, 600.0, 3),  # explained by L1 (right not checked for parity)
        anomaly("arbitrage", "C", 600.0, 61),  # a wing: within one strike of the body -> TP
        anomaly("arbitrage", "C", 603.0, 61),  # two strikes away -> FP
        anomaly("mispricing", "C", 601.0, 66),  # explained: within end + 2 intervals
        anomaly("mispricing", "C", 601.0, 68),  # too late -> FP
        anomaly("data_error", None, None, 121),  # TP
        anomaly("data_error", "C", 600.0, 122),  # also matches the strike-less label: not a FP
        anomaly("parity", "C", 599.0, 250),  # TP
        anomaly("mispricing", "P", 598.0, 180),  # volume_spike implies nothing -> FP
        anomaly("spread_blowout", "C", 610.0, 300),  # FP
        anomaly("volume_spike", "P", 598.0, 179),  # before the label -> FP; the label is missed
    ]
    return labels, anomalies


def test_hand_made_case(case):
    labels, anomalies = case
    r = evaluate(labels, anomalies, 1.0)
    m = r.by_type["mispricing"]
    assert (m.labels, m.tp, m.fn, m.events, m.matched_events, m.explained_events, m.fp) == (1, 1, 0, 4, 1, 1, 2)
    assert m.precision == pytest.approx(1 / 3) and m.recall == 1.0
    iv = r.by_type["iv_jump"]
    assert (iv.events, iv.explained_events, iv.fp, iv.precision, iv.recall) == (1, 1, 0, None, None)
    p = r.by_type["parity"]
    assert (p.tp, p.fp, p.explained_events, p.precision, p.recall) == (1, 0, 1, 1.0, 1.0)
    a = r.by_type["arbitrage"]
    assert (a.tp, a.fp, a.precision) == (1, 1, 0.5)
    d = r.by_type["data_error"]
    assert (d.tp, d.matched_events, d.fp) == (1, 2, 0)
    v = r.by_type["volume_spike"]
    assert (v.tp, v.fn, v.fp, v.precision, v.recall) == (0, 1, 1, 0.0, 0.0)
    s = r.by_type["spread_blowout"]
    assert (s.labels, s.fp, s.precision, s.recall) == (0, 1, 0.0, None)
    t = r.total
    assert (t.labels, t.tp, t.fn, t.fp) == (5, 4, 1, 5)
    assert t.precision == pytest.approx(4 / 9) and t.recall == pytest.approx(0.8)
    assert r.hours_source == "span of labels and anomalies"
    assert r.hours == pytest.approx(301 / 3600)
    assert t.false_alarms_per_hour == pytest.approx(5 / (301 / 3600))
    assert r.missed == [labels[3]["id"]]
    assert r.by_subtype["data_error/stale"] == {"labels": 1, "detected": 1}
    json.dumps(r.to_dict())
    text = r.to_text()
    assert "mispricing" in text and "total" in text and "0.444" in text


def test_window_and_strike_rules():
    lb = [label("mispricing", "C", 600.0, 0, 10)]
    assert evaluate(lb, [anomaly("mispricing", "C", 600.0, 12)], 1.0).total.tp == 1  # end + 2 intervals
    assert evaluate(lb, [anomaly("mispricing", "C", 600.0, 13)], 1.0).total.tp == 0
    assert evaluate(lb, [anomaly("mispricing", "C", 600.0, 13)], 5.0).total.tp == 1  # wider with the interval
    assert evaluate(lb, [anomaly("mispricing", "C", 600.0, -1)], 1.0).total.tp == 0  # before start
    assert evaluate(lb, [anomaly("mispricing", "P", 600.0, 1)], 1.0).total.tp == 0  # wrong right
    assert evaluate(lb, [anomaly("mispricing", "C", 601.0, 1)], 1.0).total.tp == 0  # exact strike unless arbitrage
    arb = [label("arbitrage", "P", 600.0, 0, 10, subtype="vertical")]
    for k, hit in ((599.0, 1), (601.0, 1), (602.0, 0)):
        r = evaluate(arb, [anomaly("arbitrage", "P", k, 1)], 1.0)
        assert (r.total.tp, r.total.fp) == (hit, 1 - hit)
    # the implied type follows the same rule, including the one-strike tolerance for arbitrage
    lb = [label("mispricing", "C", 600.0, 0, 10, implies=("arbitrage",))]
    r = evaluate(lb, [anomaly("arbitrage", "C", 601.0, 3), anomaly("arbitrage", "C", 602.0, 3)], 1.0)
    assert (r.by_type["arbitrage"].explained_events, r.by_type["arbitrage"].fp) == (1, 1)


def test_grouping_by_first_seen():
    records = [
        anomaly("iv_jump", "C", 600.0, 5, first_seen=4, state="continuing"),
        anomaly("iv_jump", "C", 600.0, 4, first_seen=4),
        anomaly("iv_jump", "C", 600.0, 30, first_seen=30),  # a new episode
        anomaly("iv_jump", "C", 600.0, 31),  # no first_seen: its own event
    ]
    events = group_events(records)
    assert [(e.ts, e.records) for e in events] == [(at(4), 2), (at(30), 1), (at(31), 1)]
    lb = [label("iv_jump", "C", 600.0, 3, 20)]
    r = evaluate(lb, records, 1.0, hours=2.0)
    assert (r.total.tp, r.total.fp, r.total.events) == (1, 2, 3)
    assert r.hours_source == "given" and r.total.false_alarms_per_hour == 1.0


def test_interval_defaults_to_the_labels():
    lb = [label("mispricing", "C", 600.0, 0, 10)]
    lb[0]["detail"]["interval_s"] = 5.0
    r = evaluate(lb, [anomaly("mispricing", "C", 600.0, 19)])
    assert r.interval_s == 5.0 and r.total.tp == 1


def test_oracle_on_a_simulated_window_scores_perfectly(busy_window):
    sim, _, _ = busy_window
    oracle = []
    for lb in sim.labels:
        right = lb["right"]
        strike = lb["strike"]
        if lb["type"] == "arbitrage":
            strike = lb["detail"]["strikes"][-1]  # name a wing, not the shifted leg
        oracle.append({"type": lb["type"], "right": right, "strike": strike, "ts": lb["start"],
                       "underlying": "SPY", "expiry": lb["expiry"], "evidence": {"first_seen": lb["start"]}})
    r = evaluate(sim.labels, oracle)
    assert r.total.precision == 1.0 and r.total.recall == 1.0 and r.total.fp == 0


def test_files_round_trip(tmp_path):
    cfg = SimConfig(trading_date=MONDAY, seed=5, start="10:00", end="10:10",
                    injection=InjectionConfig(rates={"data_error": 60.0, "mispricing": 30.0}, warmup_s=10))
    snaps, labels = tmp_path / "snaps.jsonl", tmp_path / "labels.jsonl"
    out = write_day(cfg, snaps, labels)
    assert out.snapshots >= 600 and out.labels > 0
    assert out.first_ts == "2026-11-23T15:00:00.000Z" and out.last_ts == "2026-11-23T15:09:59.000Z"
    recs = list(read_records(snaps))
    assert len(recs) == out.snapshots
    labs = list(read_records(labels))
    anomalies = [{"type": lb["type"], "right": lb["right"], "strike": lb["strike"], "ts": lb["start"]} for lb in labs]
    (tmp_path / "anoms.jsonl").write_text("\n".join(json.dumps(a) for a in anomalies) + "\n")
    r = evaluate_files(labels, tmp_path / "anoms.jsonl", snapshots_path=snaps)
    assert r.total.recall == 1.0 and r.hours_source == "given"
    assert r.hours == pytest.approx(600 / 3600)
