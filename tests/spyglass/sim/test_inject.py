from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.labels import DATA_ERROR_SUBTYPES, validate_label
from spyglass.sim import INJECTED_TYPES as ANOMALY_TYPES, SimConfig
from spyglass.sim.simulator import DaySimulation

from ._sim import by_key, forward, ts, years_left
from tests.spyglass.simdays import MONDAY


def _cover(label: dict) -> set[tuple[str, float]]:
    if label["strike"] is None:
        return set()
    if label["type"] == "parity":
        return {("C", label["strike"]), ("P", label["strike"])}
    return {(label["right"], label["strike"])}


def test_every_type_injected_and_labelled(busy_window):
    sim, snaps, _ = busy_window
    labels = sim.labels
    counts = Counter(lb["type"] for lb in labels)
    assert set(counts) == set(ANOMALY_TYPES)
    assert all(n >= 10 for n in counts.values()), counts
    subtypes = {lb["subtype"] for lb in labels if lb["type"] == "data_error"}
    assert subtypes == set(DATA_ERROR_SUBTYPES)
    assert {lb["subtype"] for lb in labels if lb["type"] == "arbitrage"} == {"vertical", "butterfly"}
    assert len({lb["id"] for lb in labels}) == len(labels)
    assert [lb["start"] for lb in labels] == sorted(lb["start"] for lb in labels)
    first, last = snaps[0]["ts"], max(s["ts"] for s in snaps)
    for lb in labels:
        validate_label(lb)
        assert lb["underlying"] == "SPY" and lb["expiry"] == "2026-11-23"
        assert first < lb["start"] <= lb["end"] <= last
        assert lb["detail"]["interval_s"] == 1.0
        if lb["subtype"] in ("out_of_order", "stale"):
            assert lb["right"] is None and lb["strike"] is None
        elif lb["type"] == "parity":
            assert lb["right"] is None and lb["strike"] is not None
        else:
            assert lb["right"] in ("C", "P") and lb["strike"] is not None
        assert lb["type"] not in lb["implies"] and set(lb["implies"]) <= set(ANOMALY_TYPES)


def test_changes_only_where_labelled(busy_window):
    """Same seed without injection is the same market: every difference must be a labelled one."""
    sim, snaps, base = busy_window
    labels = sim.labels
    snap_level = [lb for lb in labels if lb["subtype"] in ("out_of_order", "stale")]
    by_seq: dict[int, dict] = {}
    newest = -1
    for s in snaps:
        if s["seq"] <= newest:  # repeated or late: a labelled snapshot-level error carrying this ts
            assert any(lb["start"] == s["ts"] for lb in snap_level), s["ts"]
        by_seq.setdefault(s["seq"], s)
        newest = max(newest, s["seq"])
    assert sorted(by_seq) == [b["seq"] for b in base]
    hit: set[str] = set()
    for b in base:
        s = by_seq[b["seq"]]
        assert b["ts"] == s["ts"] and b["spot"] == s["spot"]
        book, bbook = by_key(s), by_key(b)
        prev, bprev = (by_key(by_seq[b["seq"] - 1]), by_key(base[b["seq"] - 1])) if b["seq"] else (None, None)
        active = [lb for lb in labels if lb["start"] <= s["ts"] <= lb["end"] and lb["strike"] is not None]
        allowed = set().union(*(_cover(lb) for lb in active)) if active else set()
        for key, c in book.items():
            bc = bbook[key]
            changed = any(c[f] != bc[f] for f in ("bid", "ask", "bid_size", "ask_size"))  # NaN != NaN
            if prev is not None and c["volume"] - prev[key]["volume"] != bc["volume"] - bprev[key]["volume"]:
                changed = True
            if changed:
                assert key in allowed, (s["ts"], key)
                hit.update(lb["id"] for lb in active if key in _cover(lb) and lb["start"] == s["ts"])
    contract_level = [lb for lb in labels if lb["strike"] is not None]
    missing = [lb["id"] for lb in contract_level if lb["id"] not in hit]
    assert not missing, "labels with no visible change at their start: " + ", ".join(missing)


def test_price_injections_have_tradeable_edge(busy_window):
    sim, snaps, _ = busy_window
    first_at = {}
    for s in snaps:
        first_at.setdefault(s["ts"], s)
    for lb in sim.labels:
        d = lb["detail"]
        s = first_at[lb["start"]]
        book = by_key(s)
        if lb["type"] == "mispricing":
            assert d["edge_per_share"] >= 0.05 - 1e-9 and d["half_spreads_from_fair"] >= 3
        elif lb["type"] == "parity":
            c, p = book[("C", lb["strike"])], book[("P", lb["strike"])]
            pv = math.exp(-s["rate"] * years_left(s)) * (forward(s) - lb["strike"])
            gap = max(c["bid"] - p["ask"] - pv, p["bid"] - c["ask"] + pv)
            assert gap >= 0.05 - 0.011  # spot is rounded to the cent in the snapshot
        elif lb["type"] == "arbitrage":
            ks = d["strikes"]
            legs = [book[(lb["right"], k)] for k in ks]
            if d["kind"] == "butterfly":
                credit = 2 * legs[0]["bid"] - legs[1]["ask"] - legs[2]["ask"]
            else:
                credit = legs[0]["bid"] - legs[1]["ask"]
            assert credit >= 0.05 - 1e-9
            assert abs(ks[1] - ks[0]) == 1.0
        elif lb["type"] == "volume_spike":
            assert all(v >= 20 * d["baseline"] and v >= 300 for v in d["volumes"])
            assert 1 <= len(d["volumes"]) <= 3
        elif lb["type"] == "spread_blowout":
            c = book[(lb["right"], lb["strike"])]
            assert d["factor"] >= 3 and c["ask"] - c["bid"] >= 0.04 - 1e-9
            assert "mispricing" not in lb["implies"] and "arbitrage" not in lb["implies"]
        elif lb["type"] == "iv_jump":
            assert 3 <= abs(d["vol_points"]) <= 8
        elif lb["type"] == "data_error" and lb["strike"] is not None:
            c = book[(lb["right"], lb["strike"])]
            sub = lb["subtype"]
            if sub == "crossed":
                assert c["bid"] > c["ask"]
            elif sub == "negative":
                assert c[d["field"]] < 0
            elif sub == "nan":
                assert math.isnan(c[d["field"]])
            elif sub == "missing_ask":
                assert c["ask"] is None and c["bid"] is not None and c["ask_size"] == 0
            assert lb["implies"] == []


def test_volume_monotone_except_where_labelled(busy_window):
    sim, snaps, _ = busy_window
    bad_ts = {lb["start"] for lb in sim.labels if lb["subtype"] in ("out_of_order", "stale")}
    for a, b in zip(snaps, snaps[1:]):
        va = np.array([c["volume"] for c in a["contracts"]])
        vb = np.array([c["volume"] for c in b["contracts"]])
        if (vb < va).any():
            assert b["ts"] in bad_ts or a["ts"] in bad_ts


def test_snapshots_with_errors_still_parse(busy_window):
    sim, snaps, _ = busy_window
    nan_ts = {lb["start"] for lb in sim.labels if lb["subtype"] == "nan"}
    s = next(s for s in snaps if s["ts"] in nan_ts)
    raw = dumps_snapshot(s)
    assert b"NaN" in raw
    snap = Snapshot.from_json(raw)
    assert np.isnan(snap.chain.bid).any() or np.isnan(snap.chain.ask).any()
    assert b"NaN" not in dumps_snapshot(s, nan="null")


def test_iv_jump_onset_has_calm_spot(busy_window):
    sim, snaps, _ = busy_window
    at = {}
    for i, s in enumerate(snaps):
        at.setdefault(s["ts"], i)
    for lb in sim.labels:
        if lb["type"] == "iv_jump":
            i = at[lb["start"]]
            move = abs(snaps[i]["spot"] / snaps[i - 1]["spot"] - 1)
            assert move < 0.0005


def test_default_rates_give_ten_to_twenty_per_type():
    sim = DaySimulation(SimConfig(trading_date=MONDAY))
    inj = sim.schedule
    counts = Counter(d.type for d in inj.pending + inj._snap_pending)
    assert set(counts) == set(ANOMALY_TYPES)
    assert all(10 <= n <= 20 for n in counts.values()), counts
    first = min(d.seq for d in inj.pending)
    assert first >= 60  # warm-up: nothing in the first minute, never the first snapshot


@pytest.mark.parametrize("interval", [5.0, 60.0])
def test_coarse_intervals_still_inject(interval):
    rates = {t: 30.0 for t in ANOMALY_TYPES}
    from spyglass.sim import InjectionConfig, simulate_day

    cfg = SimConfig(trading_date=MONDAY, seed=2, start="10:00", end="12:00", interval_s=interval,
                    injection=InjectionConfig(rates=rates))
    sim = simulate_day(cfg)
    snaps = list(sim)
    assert snaps and sim.labels
    types = {lb["type"] for lb in sim.labels}
    assert {"mispricing", "volume_spike", "data_error"} <= types
    for lb in sim.labels:
        assert (ts(lb["end"]) - ts(lb["start"])).total_seconds() % interval == 0
