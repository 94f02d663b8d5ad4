"""Fat fingers, pulled bids and the gap: present where labelled, absent elsewhere, sized as configured."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from spyglass.labels import validate_label
from spyglass.sim import OneSidedPulls

from ._sim import by_key, forward, implied_vols, rr25_from_quotes, ts
from .conftest import messy_config, with_twin


def _index(snaps):
    return {s["ts"]: i for i, s in enumerate(snaps)}


# ------------------------------------------------------------------ fat fingers
def test_fat_fingers_only_in_their_window_on_one_line(fat_pair):
    sim, snaps, twin = fat_pair
    labels = [lb for lb in sim.labels if lb["subtype"] == "fat_finger"]
    assert len(labels) >= 15
    window = {}
    for lb in labels:
        window.setdefault((lb["right"], lb["strike"]), []).append((lb["start"], lb["end"]))
    seen = Counter()
    for s, t in zip(snaps, twin):
        truth = by_key(t)
        changed = [key for key, c in by_key(s).items() if (c["bid"], c["ask"]) != (truth[key]["bid"], truth[key]["ask"])]
        assert len(changed) <= 1 or len({lb["start"] for lb in labels if lb["start"] <= s["ts"] <= lb["end"]}) > 1
        for key in changed:
            assert any(a <= s["ts"] <= b for a, b in window.get(key, ())), (s["ts"], key)
            seen[key] += 1
        for key, c in by_key(s).items():  # sizes, volume and last are the twin's, except where ages differ
            if key not in window:
                assert all(c[k] == truth[key][k] for k in ("bid_size", "ask_size", "volume", "last", "quote_age_ms"))
    assert sum(seen.values()) == sum(round((ts(lb["end"]) - ts(lb["start"])).total_seconds() / 2) + 1
                                     for lb in labels)


def test_fat_finger_kinds_look_as_configured(fat_pair):
    sim, snaps, _ = fat_pair
    at = _index(snaps)
    kinds = Counter()
    for lb in (lb for lb in sim.labels if lb["subtype"] == "fat_finger"):
        validate_label(lb)
        assert lb["type"] == "data_error" and lb["implies"] == []
        d = lb["detail"]
        kinds[d["kind"]] += 1
        assert 1 <= d["snapshots"] <= 3
        s = snaps[at[lb["start"]]]
        c = by_key(s)[(lb["right"], lb["strike"])]
        bid, ask = c["bid"], c["ask"]
        assert (bid, ask) == (d["quotes"]["bid"], d["quotes"]["ask"])
        nb, na = d["normal"]["bid"], d["normal"]["ask"]
        if d["kind"] == "multiple":
            assert 5 <= d["factor"] <= 15 and bid == pytest.approx(d["factor"] * d["fair"], abs=0.006)
            assert ask - bid == pytest.approx(na - nb)
        elif d["kind"] == "decimal":
            assert d["factor"] in (10.0, 0.1)
            if d["factor"] == 10:
                assert (bid, ask) == pytest.approx((10 * nb, 10 * na))
            else:
                assert bid <= nb / 10 + 1e-9 and ask >= na / 10 - 1e-9 and ask < na / 5
        elif d["kind"] == "ask_zero":
            assert ask == 0.0 and bid == nb
        elif d["kind"] == "swap":
            assert (bid, ask) == (na, nb) and bid > ask
        else:
            assert 30 <= d["vol_points"] <= 80
            strike, call = np.array([lb["strike"]]), np.array([lb["right"] == "C"])
            iv_bad = implied_vols(s, np.array([(bid + ask) / 2]), strike, call)[0]
            iv_ok = implied_vols(s, np.array([(nb + na) / 2]), strike, call)[0]
            assert iv_bad - iv_ok >= 0.25
        nxt = snaps[at[lb["end"]] + 1]
        assert by_key(nxt)[(lb["right"], lb["strike"])]["bid"] != bid or by_key(nxt)[(lb["right"], lb["strike"])]["ask"] != ask
    assert set(kinds) == set(("multiple", "decimal", "ask_zero", "swap", "one_line_iv"))


# ---------------------------------------------------------------- pulled bids
@pytest.fixture(scope="module")
def pull_pair():
    cfg = messy_config(end="10:20", one_sided_pulls=OneSidedPulls(rate_per_hour=400.0))
    return with_twin(cfg, one_sided_pulls=None)


def test_pulls_take_only_the_bid_near_the_money(pull_pair):
    sim, snaps, twin = pull_pair
    assert sim.labels == []
    runs: dict[tuple, list[str]] = {}
    for s, t in zip(snaps, twin):
        truth = by_key(t)
        for key, c in by_key(s).items():
            tc = truth[key]
            assert all(c[k] == tc[k] for k in ("ask", "ask_size", "volume", "last", "open_interest")), key
            if c["bid"] != tc["bid"]:
                assert c["bid"] is None and c["bid_size"] == 0 and tc["bid"] is not None
                assert abs(key[1] - forward(s)) <= 7
                runs.setdefault(key, []).append(s["ts"])
            else:
                assert c["bid_size"] == tc["bid_size"]
    assert sim.mess.pulls.count >= 80 and len(runs) >= 10
    assert sim.mess.pulls.line_snapshots == sum(len(v) for v in runs.values())


# ----------------------------------------------------------------------- gap
def _atm_vol(snap):
    """ATM implied vol at the forward, from the two-sided mids of the strikes around it."""
    f = forward(snap)
    book = by_key(snap)
    ks = sorted({k for _, k in book})
    lo = max(k for k in ks if k <= f)
    vols = []
    for k in (lo, lo + 1):
        for right in "CP":
            c = book[(right, k)]
            vols.append(implied_vols(snap, np.array([(c["bid"] + c["ask"]) / 2]), np.array([k]),
                                     np.array([right == "C"]))[0])
    w = f - lo
    return (1 - w) * (vols[0] + vols[1]) / 2 + w * (vols[2] + vols[3]) / 2


def test_gap_moves_spot_and_the_smile_by_the_configured_amounts(gap_pair):
    sim, snaps, _ = gap_pair
    (lb,) = sim.labels
    validate_label(lb)
    assert (lb["type"], lb["subtype"]) == ("iv_jump", "smile_shift") and lb["right"] is None and lb["strike"] is None
    assert lb["implies"] == ["data_error"]
    assert (ts(lb["end"]) - ts(lb["start"])).total_seconds() == 3.0
    d = lb["detail"]
    at = _index(snaps)
    g = at[lb["start"]]
    move = snaps[g]["spot"] / snaps[g - 1]["spot"] - 1
    assert abs(move - d["spot_move"]) < 0.0005 and abs(d["spot_move"]) == 0.008
    assert d["atm_vol_after"] / d["atm_vol_before"] == pytest.approx(1.37, rel=0.01)
    before, after = _atm_vol(snaps[g - 1]), _atm_vol(snaps[at[lb["end"]] + 1])
    assert after / before == pytest.approx(1.37, rel=0.06)
    rr_before, rr_after = rr25_from_quotes(snaps[g - 1]), rr25_from_quotes(snaps[at[lb["end"]] + 1])
    assert rr_after < 1.3 * rr_before  # steeper skew (negative risk reversal, more so)


def test_lagging_lines_catch_up_within_the_window(gap_pair):
    sim, snaps, _ = gap_pair
    (lb,) = sim.labels
    at = _index(snaps)
    g, end = at[lb["start"]], at[lb["end"]]
    held = sim.mess.gap.held
    assert (held > 0).sum() > 0 and 1 <= held.max() <= end - g
    pre = snaps[g - 1]["contracts"]
    quote = ("bid", "ask", "bid_size", "ask_size")
    lagged = moved = 0
    for i, c0 in enumerate(pre):
        for k in range(g, end + 1):
            c = snaps[k]["contracts"][i]
            same = all(c[f] == c0[f] for f in quote)
            if k - g < held[i]:
                assert same, (i, k)
                lagged += 1
            elif k == end and c0["bid"] is not None and c0["bid"] >= 0.5:
                assert (c["bid"], c["ask"]) != (c0["bid"], c0["ask"]), i  # repriced by the end of the window
                moved += 1
    assert lagged >= 30 and moved >= 20
