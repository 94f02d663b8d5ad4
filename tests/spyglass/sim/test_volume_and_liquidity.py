"""Trade-like volume, the session start, per-underlying liquidity, the early close and the smaller sizes."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from spyglass.clock import session_close
from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.labels import validate_label
from spyglass.sim import scenario_config

from ._sim import by_key, ts
from tests.spyglass.simdays import run


def volumes(snaps) -> np.ndarray:
    return np.array([[c["volume"] for c in s["contracts"]] for s in snaps])


# --------------------------------------------------------------------- trades
@pytest.fixture(scope="module")
def midday():
    """An hour after noon of the clean day: trades, blocks, pulls, ages; nothing injected."""
    return run(scenario_config("clean", seed=8, start="12:00", end="13:00"))


def test_clean_day_has_ordinary_bursts_of_a_few_hundred(midday):
    sim, snaps = midday
    assert sim.labels == []
    v = volumes(snaps)
    d = np.diff(v, axis=0)
    assert (d >= 0).all()
    assert (d >= 200).sum() >= 5  # blocks of 200+ in one 2 s interval, on an ordinary afternoon
    assert (d >= 200).sum() <= 0.002 * d.size
    oi = [c["open_interest"] for c in snaps[0]["contracts"]]
    assert all([c["open_interest"] for c in s["contracts"]] == oi for s in snaps[::50])  # last night's


def test_trade_volume_matches_its_expectation(midday):
    sim, snaps = midday
    v = volumes(snaps)
    t0 = (ts(snaps[0]["ts"]) - sim.session.open).total_seconds()
    t1 = (ts(snaps[-1]["ts"]) - sim.session.open).total_seconds()
    expected = sim.daily_volume / sim.session.session_seconds * sim.intensity.share(t0, t1)
    assert (v[-1] - v[0]).sum() == pytest.approx(expected, rel=0.05)


def test_session_start_burst_and_a_late_first_snapshot():
    sim, snaps = run(scenario_config("session_start", seed=3))
    first = ts(snaps[0]["ts"])
    assert dt.timedelta(seconds=2) <= first - sim.session.open <= dt.timedelta(seconds=8)
    v = volumes(snaps).sum(axis=1)
    assert v[0] > 500  # volume already done before the first snapshot
    at = {s["ts"][11:19]: i for i, s in enumerate(snaps)}
    i1 = next(i for k, i in at.items() if k >= "14:31:00")
    i50 = next(i for k, i in at.items() if k >= "14:50:00")
    rate_open = (v[i1] - v[0]) / (ts(snaps[i1]["ts"]) - first).total_seconds()
    rate_late = (v[-1] - v[i50]) / (ts(snaps[-1]["ts"]) - ts(snaps[i50]["ts"])).total_seconds()
    assert rate_open > 3 * rate_late
    d = np.diff(volumes(snaps[:30]), axis=0)
    assert (d >= 200).any()  # lines trading 200+ in one interval in the first minute


# ------------------------------------------------------------------ liquidity
def _liquidity(snaps):
    spreads, sizes, one_sided = [], [], []
    for s in snaps[::10]:
        spot = s["spot"]
        book = by_key(s)
        k = min((k for _, k in book), key=lambda k: abs(k - spot))
        spreads += [round((book[(r, k)]["ask"] - book[(r, k)]["bid"]) * 100) for r in "CP"
                    if book[(r, k)]["bid"] is not None]
        sizes += [c[f] for c in s["contracts"] if abs(c["strike"] / spot - 1) < 0.005 and c["bid"] is not None
                  for f in ("bid_size", "ask_size")]
        one_sided.append(np.mean([c["bid"] is None for c in s["contracts"] if abs(c["strike"] / spot - 1) < 0.02]))
    v = volumes(snaps)
    return np.mean(spreads), np.median(sizes), np.mean(one_sided), (v[-1] - v[0]).sum(), len(snaps[0]["contracts"])


def test_qqq_is_not_a_rescaled_spy_day():
    spy = _liquidity(run(scenario_config("qqq", seed=2, underlying="SPY", start="10:00", end="10:30",
                                         injection=scenario_config("clean").injection))[1])
    qqq = _liquidity(run(scenario_config("qqq", seed=2, start="10:00", end="10:30",
                                         injection=scenario_config("clean").injection))[1])
    assert qqq[0] >= spy[0] + 0.8  # wider at the money, in ticks
    assert qqq[1] <= spy[1] / 2.5  # thinner books
    assert qqq[2] >= spy[2] + 0.025  # more lines without a bid, within 2% of spot
    assert qqq[3] <= spy[3] * 0.7  # less volume
    assert qqq[4] == 2 * 41 and spy[4] == 2 * 61  # +-4% of 520 vs +-5% of 600


# ---------------------------------------------------------------- early close
def test_early_close_without_expiry_close():
    sim, snaps = run(scenario_config("early_close", seed=1, start="12:45"))
    assert all("expiry_close" not in s for s in snaps)
    close = session_close(dt.date(2026, 11, 27))
    assert close == dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.timezone.utc)  # 13:00 New York
    assert ts(snaps[-1]["ts"]) == close - dt.timedelta(seconds=2)
    snap = Snapshot.from_json(dumps_snapshot(snaps[-1]))
    assert snap.expiry_close is None  # the scorer must find the close from the calendar
    k = float(round(snaps[-1]["spot"]))
    atm = by_key(snaps[-1])[("C", k)]
    assert atm["ask"] < 1.0  # priced for two seconds to a 13:00 expiry, not three hours


# --------------------------------------------------------------- small sizes
def test_smaller_injected_sizes_land_in_range():
    sim, snaps = run(scenario_config("small_edges", seed=6, end="11:00"))
    at = {}
    for i, s in enumerate(snaps):
        at.setdefault(s["ts"], i)
    ticks, multiples = [], []
    for lb in sim.labels:
        validate_label(lb)
        d = lb["detail"]
        if lb["type"] == "mispricing":
            assert 2 <= d["target_edge_ticks"] <= 6 and math.floor(d["edge_ticks"] + 1e-6) == d["target_edge_ticks"]
            c = by_key(snaps[at[lb["start"]]])[(lb["right"], lb["strike"])]
            beyond = c["bid"] - d["fair"] if d["direction"] == "rich" else d["fair"] - c["ask"]
            assert beyond == pytest.approx(d["edge_ticks"] * 0.01, abs=1e-6) and beyond >= 0.02 - 1e-9
            ticks.append(d["target_edge_ticks"])
        elif lb["type"] == "volume_spike":
            assert 8 <= d["multiple"] <= 24
            assert all(0.8 * d["multiple"] * d["baseline"] - 1 <= v <= 1.2 * d["multiple"] * d["baseline"] + 1
                       for v in d["volumes"])
            multiples.append(d["multiple"])
    assert len(ticks) >= 8 and len(multiples) >= 8
    assert min(ticks) == 2 and max(ticks) >= 5
    assert min(multiples) < 12
