"""Quote ages and stale blocks: frozen lines really frozen, ages truthful, materiality right."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from spyglass.labels import validate_label
from spyglass.sim import QuoteAges
from spyglass.sim.stale import first_material, material_band

from ._sim import by_key, ts
from .conftest import messy_config, run

SHOWN = ("bid", "ask", "bid_size", "ask_size", "last", "volume")


def _index(snaps):
    return {s["ts"]: i for i, s in enumerate(snaps)}


def test_every_line_carries_an_integer_age_and_no_age_mode_drops_only_the_field():
    with_age = run(messy_config(end="10:05", quote_ages=QuoteAges()))[1]
    without = run(messy_config(end="10:05", quote_ages=QuoteAges(field=False)))[1]
    assert len(with_age) == len(without) == 150
    for a, b in zip(with_age, without):
        for ca, cb in zip(a["contracts"], b["contracts"]):
            age = ca.pop("quote_age_ms")
            assert isinstance(age, int) and age >= 0
            assert "quote_age_ms" not in cb
            assert ca == cb  # the same day: only the field differs


def test_ages_are_truthful(stale_pair):
    """Unchanged quote and sizes: the age grows by exactly the interval; changed: at most an interval plus jitter."""
    _, snaps, _ = stale_pair
    grew = reset = 0
    for a, b in zip(snaps, snaps[1:]):
        for ca, cb in zip(a["contracts"], b["contracts"]):
            same = all(ca[k] == cb[k] for k in ("bid", "ask", "bid_size", "ask_size"))
            if same:
                assert cb["quote_age_ms"] == ca["quote_age_ms"] + 2000
                grew += 1
            else:
                assert 0 <= cb["quote_age_ms"] <= 2000 + 30
                reset += 1
    assert grew > 1000 and reset > 1000


def test_near_the_money_quotes_tick_between_price_moves(stale_pair):
    """Sizes flicker on ticking lines, so a fresh at-the-money line is rarely seconds old."""
    _, _, twin = stale_pair
    atm_ages = []
    for s in twin[30:]:
        k = float(round(s["spot"]))
        atm_ages += [by_key(s)[(r, k)]["quote_age_ms"] for r in "CP"]
    assert np.median(atm_ages) <= 2030 and np.percentile(atm_ages, 99) <= 6100


def test_stale_labels_describe_blocks(stale_pair):
    sim, snaps, _ = stale_pair
    labels = [lb for lb in sim.labels if lb["subtype"] == "stale_quote"]
    assert len(labels) >= 20
    blocks = defaultdict(list)
    for lb in labels:
        validate_label(lb)
        assert lb["type"] == "data_error" and lb["implies"] == [] and lb["right"] in ("C", "P")
        d = lb["detail"]
        assert d["age_field"] is True and d["interval_s"] == 2.0
        assert 60 <= (ts(lb["end"]) - ts(lb["start"])).total_seconds() + 2 <= 420 or lb["end"] == snaps[-1]["ts"]
        if d["material_from"] is not None:
            assert lb["start"] <= d["material_from"] <= lb["end"]
        blocks[d["block"]].append(lb)
    legs = set()
    for members in blocks.values():
        assert len({(lb["start"], lb["end"]) for lb in members}) == 1
        ks = sorted({lb["strike"] for lb in members})
        assert 3 <= len(ks) <= 8 and ks == [ks[0] + j for j in range(len(ks))]  # adjacent strikes
        rights = {lb["right"] for lb in members}
        leg = "both" if rights == {"C", "P"} else next(iter(rights))
        legs.add(leg)
        assert len(members) == len(ks) * (2 if leg == "both" else 1)
        spot = snaps[_index(snaps)[members[0]["start"]]]["spot"]
        assert min(abs(k - spot) for k in ks) <= 5  # near the money
    assert "both" in legs


def test_stale_lines_frozen_while_the_market_moves(stale_pair):
    sim, snaps, twin = stale_pair
    at = _index(snaps)
    moved = 0
    for lb in (lb for lb in sim.labels if lb["subtype"] == "stale_quote"):
        key = (lb["right"], lb["strike"])
        i0, i1 = at[lb["start"]], at[lb["end"]]
        before = by_key(snaps[i0 - 1])[key]
        ages = []
        for i in range(i0, i1 + 1):
            c = by_key(snaps[i])[key]
            assert all(c[k] == before[k] for k in SHOWN), (lb["id"], snaps[i]["ts"])
            ages.append(c["quote_age_ms"])
            assert c["quote_age_ms"] >= (ts(snaps[i]["ts"]) - ts(lb["start"])).total_seconds() * 1000
        assert ages == [before["quote_age_ms"] + 2000 * (j + 1) for j in range(len(ages))]  # truthful, growing
        moved += snaps[i1]["spot"] != snaps[i0]["spot"]
        truth = by_key(twin[i1])[key]
        assert truth["volume"] >= before["volume"]
        if i1 + 1 < len(snaps):  # the first fresh snapshot shows the true cumulative volume again
            assert by_key(snaps[i1 + 1])[key]["volume"] == by_key(twin[i1 + 1])[key]["volume"]
    assert moved >= 10


def test_only_labelled_lines_differ_from_the_twin(stale_pair):
    sim, snaps, twin = stale_pair
    frozen = defaultdict(set)
    for lb in sim.labels:
        frozen[(lb["right"], lb["strike"])].add((lb["start"], lb["end"]))
    for s, t in zip(snaps, twin):
        assert s["spot"] == t["spot"]
        truth = by_key(t)
        for key, c in by_key(s).items():
            if any(c[k] != truth[key][k] for k in ("bid", "ask", "last", "volume")):
                assert any(a <= s["ts"] <= b for a, b in frozen[key]), (s["ts"], key)


def test_material_from_against_the_true_quotes(stale_pair):
    """The twin's quote brackets the true fair value: it must leave the band at material_from and not before."""
    sim, snaps, twin = stale_pair
    at = _index(snaps)
    checked = 0
    for lb in (lb for lb in sim.labels if lb["subtype"] == "stale_quote"):
        key = (lb["right"], lb["strike"])
        d = lb["detail"]
        lo, hi = (-np.inf if d["band"][0] is None else d["band"][0]), (np.inf if d["band"][1] is None else d["band"][1])
        end = at[d["material_from"]] if d["material_from"] else at[lb["end"]] + 1
        for i in range(at[lb["start"]], end):
            t = by_key(twin[i])[key]
            assert (t["bid"] or 0.0) <= hi + 1e-9 and t["ask"] >= lo - 1e-9, (lb["id"], twin[i]["ts"])
        if d["material_from"]:
            t = by_key(twin[end])[key]  # fair > hi: the ask is above it; fair < lo: the bid is below it
            assert t["ask"] > hi + 1e-9 or (t["bid"] or 0.0) < lo - 1e-9, (lb["id"], twin[end]["ts"])
            checked += 1
    assert checked >= 10


def test_material_band_by_hand():
    lo, hi = material_band(np.array([1.02, 0.30, 0.03]), np.array([1.00, 0.0, 0.03]), np.array([1.04, 0.31, 0.04]),
                           np.array([False, True, False]), np.array([False, False, False]), 0.01)
    # worth 1.02 at the freeze, half-spread 0.02: two half-spreads and a tick either side; an ask alone (0.31): half
    # a tick stands in for the half-spread, and only a rise through it counts; worth 0.03: only once worth 0.05
    assert lo.tolist() == pytest.approx([0.97, -np.inf, -np.inf]) and hi.tolist() == pytest.approx([1.07, 0.32, 0.05])
    assert first_material([1.02, 1.05, 1.06, 1.061, 0.9], 0.98, 1.06) == 3  # 1.06 is on the edge: not yet
    assert first_material([1.0, 0.979], 0.98, 1.06) == 1
    assert first_material([1.0, 1.01], 0.98, 1.06) is None


def test_deep_blocks_end_material(stale_pair):
    sim, snaps, _ = stale_pair
    deep = defaultdict(list)
    for lb in sim.labels:
        if lb["detail"]["deep"]:
            deep[lb["detail"]["block"]].append(lb)
    assert deep
    for members in deep.values():
        lasted = (ts(members[0]["end"]) - ts(members[0]["start"])).total_seconds() + 2
        share = np.mean([lb["detail"]["material_from"] is not None for lb in members])
        assert share >= 0.8 or lasted == 420 or members[0]["end"] == snaps[-1]["ts"]
