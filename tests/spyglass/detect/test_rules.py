"""A positive and a negative test for every rule, on chains with known fair values."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from spyglass.config import DetectorConfig
from spyglass.session import ScoringSession
from tests.spyglass.chainkit import T0, ChainKit

QUICK = DetectorConfig(volume_warmup_seconds=20, volume_warmup_snapshots=15)  # volume baselines mature in 20 s


def run(kit: ChainKit, seconds: int, events=None, drift: float = 0.0, session: ScoringSession | None = None):
    session = session or ScoringSession()
    found = []
    for snap in kit.stream(T0, seconds, events, drift):
        found += session.feed(snap).anomalies
    return found


def of(found, type_):
    """Findings of a type, alone or as a facet of an incident."""
    return [a for a in found if type_ in a.types]


def face(a, type_):
    """(evidence, edge) of one type in an anomaly: its own, or a facet's when it is an incident."""
    if a.type == type_:
        return a.evidence, a.edge
    f = next(f for f in a.facets if f["type"] == type_)
    return f["evidence"], f["edge"]


def shift(right: str, strike: float, by: float, kit: ChainKit):
    i = kit.index(right, strike)

    def mutate(q, *_):
        q["bid"][i] += by
        q["ask"][i] += by

    return {"mutate": mutate}


def test_clean_chain_raises_nothing():
    assert run(ChainKit(seed=3), 60, drift=2e-5) == []


def test_mispricing_fires_on_a_quote_far_beyond_fair_and_names_the_edge():
    kit = ChainKit()
    found = run(kit, 12, {s: shift("C", 603, 0.12, kit) for s in range(6, 12)})
    hits = of(found, "mispricing")
    assert [(a.right, a.strike) for a in hits if a.evidence["state"] == "new"] == [("C", 603.0)]
    a = hits[0]
    assert a.evidence["side"] == "rich" and a.evidence["state"] == "new"
    assert a.edge == pytest.approx((a.evidence["bid"] - a.evidence["fair"]) * 100, abs=0.01)
    assert a.edge > 5 and "vol pts above the fitted smile" in a.evidence["summary"]
    assert a.evidence["market_iv"] > a.evidence["fitted_iv"]


def test_mispricing_ignores_a_shift_inside_the_spread_and_threshold():
    kit = ChainKit()
    found = run(kit, 12, {s: shift("C", 603, 0.01, kit) for s in range(6, 12)})
    assert of(found, "mispricing") == []


def test_cheap_quote_is_reported_as_a_buy_at_the_ask():
    kit = ChainKit()
    found = run(kit, 10, {s: shift("P", 599, -0.12, kit) for s in range(5, 10)})
    hits = [a for a in of(found, "mispricing") if a.strike == 599.0]
    assert hits and hits[0].evidence["side"] == "cheap" and "buy at the ask" in hits[0].evidence["summary"]


def test_parity_fires_when_call_and_put_move_apart():
    kit = ChainKit()
    c, p = kit.index("C", 601), kit.index("P", 601)

    def mutate(q, *_):
        q["bid"][c] += 0.08
        q["ask"][c] += 0.08
        q["bid"][p] -= 0.08
        q["ask"][p] -= 0.08

    found = run(kit, 8, {s: {"mutate": mutate} for s in range(4, 8)})
    hits = of(found, "parity")
    assert [a.strike for a in hits] == [601.0]
    evidence, edge = face(hits[0], "parity")
    assert evidence["direction"] == "call rich" and edge > 3


def test_parity_is_quiet_for_a_consistent_chain_with_an_american_put_premium():
    kit = ChainKit()
    # deep in-the-money puts a little above European value, within K(1-DF): not a violation
    def mutate(q, k, call, fair):
        itm_put = (~call) & (k > kit.spot + 10)
        q["bid"][itm_put] += 0.01
        q["ask"][itm_put] += 0.01

    found = run(kit, 6, {s: {"mutate": mutate} for s in range(6)})
    assert of(found, "parity") == []


def test_butterfly_arbitrage_is_found_on_tradeable_prices():
    kit = ChainKit()
    i = kit.index("C", 600)
    wings = (kit.index("C", 599), kit.index("C", 601))

    def mutate(q, *_):
        q["bid"][i] = 0.5 * (q["ask"][wings[0]] + q["ask"][wings[1]]) + 0.05
        q["ask"][i] = q["bid"][i] + 0.02

    found = run(kit, 6, {s: {"mutate": mutate} for s in range(3, 6)})
    hits = of(found, "arbitrage")
    assert any(a.strike == 600.0 and face(a, "arbitrage")[0]["kind"] == "butterfly" for a in hits)
    assert all(abs(a.strike - 600.0) <= 1 for a in hits)


def test_vertical_arbitrage_when_a_higher_call_bids_above_a_lower_calls_ask():
    kit = ChainKit()
    lo, hi = kit.index("C", 605), kit.index("C", 606)

    def mutate(q, *_):
        q["bid"][hi] = q["ask"][lo] + 0.03
        q["ask"][hi] = q["bid"][hi] + 0.02

    found = run(kit, 4, {s: {"mutate": mutate} for s in range(2, 4)})
    assert any(face(a, "arbitrage")[0]["kind"] in ("vertical", "butterfly") and a.strike in (605.0, 606.0)
               for a in of(found, "arbitrage"))


def test_no_arbitrage_in_a_chain_quoted_around_fair():
    assert of(run(ChainKit(seed=11), 20), "arbitrage") == []


def test_volume_spike_against_the_contracts_own_baseline():
    kit = ChainKit()
    i = kit.index("C", 600)
    found = run(kit, 60, {45: {"volume_add": {i: 2500}}}, session=ScoringSession(QUICK))
    hits = of(found, "volume_spike")
    assert [(a.right, a.strike) for a in hits] == [("C", 600.0)]
    assert hits[0].evidence["interval_volume"] >= 2500 and hits[0].evidence["ratio"] > 12


def test_first_snapshot_of_the_day_is_never_a_spike_and_busy_contracts_need_more():
    kit = ChainKit()
    kit.volume[:] = 50_000  # big cumulative volume already at the first snapshot
    found = run(kit, 40, {30: {"volume_add": {kit.index("C", 600): 60}}}, session=ScoringSession(QUICK))
    assert of(found, "volume_spike") == []


def test_the_opening_burst_raises_nothing_before_the_baselines_mature():
    kit = ChainKit()
    busy = {i: 400 for i in range(0, kit.n, 3)}  # every third line prints a few hundred lots each second
    found = run(kit, 30, {s: {"volume_add": busy} for s in range(1, 30)})
    assert of(found, "volume_spike") == []


@pytest.mark.parametrize(("open_interest", "spikes"), [(0.0, 1), (2_000_000.0, 0)])
def test_a_cold_line_is_expected_to_trade_what_its_open_interest_implies(open_interest, spikes):
    kit = ChainKit()
    kit.oi_scale = open_interest  # at the money; 2M held: 0.5 x 2M over a 6.5 h session is 43 lots a second
    i = kit.index("C", 600)
    events = {s: {"quiet": True} for s in range(30)}
    events[25] = {"quiet": True, "volume_add": {i: 300}}
    cold = DetectorConfig(volume_warmup_seconds=20, volume_warmup_snapshots=15, volume_warmup=1000)
    found = run(kit, 30, events, session=ScoringSession(cold))
    assert len(of(found, "volume_spike")) == spikes


def test_an_ordinary_block_is_not_a_spike_but_far_beyond_the_chains_blocks_is():
    kit = ChainKit()
    lines = [kit.index("C", k) for k in range(596, 606)] + [kit.index("P", k) for k in range(594, 604)]
    # blocks of 300-360 lots somewhere in the chain every 9 s from the start of the day
    events = {s: {"volume_add": {lines[s % len(lines)]: 300 + 10 * (s % 7)}} for s in range(5, 200, 9)}
    i = kit.index("P", 598)
    events[205] = {"volume_add": {i: 320}}  # one more block of the usual size
    events[215] = {"volume_add": {i: 1500}}  # five times the chain's blocks
    found = run(kit, 220, events, session=ScoringSession(QUICK))
    hits = of(found, "volume_spike")
    assert [(a.ts.second + 60 * (a.ts.minute - T0.minute), a.strike) for a in hits] == [(215, 598.0)]
    assert hits[0].evidence["ordinary_block"] >= 300 and "ordinary" in hits[0].evidence["summary"]


def widened(kit: ChainKit, right: str, strike: float, half: float) -> list:
    """Anomalies of 30 s in which one line's spread is ``2 * half`` around its mid from second 20."""
    i = kit.index(right, strike)

    def mutate(q, *_):
        mid = 0.5 * (q["bid"][i] + q["ask"][i])
        q["bid"][i] = round(mid - half, 2)
        q["ask"][i] = round(mid + half, 2)

    return run(kit, 30, {s: {"mutate": mutate} for s in range(20, 30)})


def test_spread_blowout_vs_neighbours_and_history():
    found = widened(ChainKit(), "P", 598, 0.15)
    hits = of(found, "spread_blowout")
    assert [(a.right, a.strike) for a in hits] == [("P", 598.0)]
    assert hits[0].evidence["ratio"] >= 3


def test_a_deep_in_the_money_blowout_is_not_high_however_wide_against_its_neighbours():
    found = widened(ChainKit(), "P", 612, 0.65)  # about 12 in the money
    hits = of(found, "spread_blowout")
    assert [(a.right, a.strike) for a in hits] == [("P", 612.0)]
    evidence, _ = face(hits[0], "spread_blowout")
    assert evidence["ratio"] >= 6 and 0.05 < evidence["spread_share_of_mid"] < 0.15  # high by the ratio alone
    assert hits[0].severity == "medium"


def test_spread_blowout_severity_is_capped_by_the_spread_share_of_the_price():
    from spyglass.detect.rules.spread_blowout import severity

    assert [severity(8.0, s) for s in (0.02, 0.10, 0.40)] == ["low", "medium", "high"]
    assert [severity(4.5, s) for s in (0.02, 0.10, 0.40)] == ["low", "medium", "medium"]
    assert severity(3.0, 0.40) == "low"


def test_chain_wide_widening_is_not_a_blowout():
    kit = ChainKit()

    def mutate(q, *_):
        mid = 0.5 * (q["bid"] + q["ask"])
        q["bid"][:] = np.round(mid - 0.08, 2)
        q["ask"][:] = np.round(mid + 0.08, 2)

    found = run(kit, 30, {s: {"mutate": mutate} for s in range(20, 30)})
    assert of(found, "spread_blowout") == []


def test_iv_jump_when_one_contract_is_remarked_against_the_smile():
    kit = ChainKit()
    found = run(kit, 14, {s: shift("C", 602, 0.10, kit) for s in range(8, 14)})
    hits = of(found, "iv_jump")
    assert [(a.strike, a.evidence["state"]) for a in hits] == [(602.0, "new")]
    assert face(hits[0], "iv_jump")[0]["change_vol_points"] > 2


def test_no_reverse_iv_jump_when_the_remarked_quote_comes_back():
    kit = ChainKit()
    found = run(kit, 26, {s: shift("C", 602, 0.10, kit) for s in range(8, 14)})
    hits = of(found, "iv_jump")
    assert [(a.strike, a.evidence["state"]) for a in hits] == [(602.0, "new")]  # one jump, and none back at 14
    assert all(a.ts < T0 + timedelta(seconds=14) for a in found)  # the way back raises nothing at all


def test_iv_jump_not_fired_by_a_spot_move_the_whole_chain_follows():
    kit = ChainKit()
    session = ScoringSession()
    found = []
    for s, snap in enumerate(kit.stream(T0, 20)):
        if s == 10:
            kit.spot += 1.5  # the chain re-prices consistently with the new spot
        found += session.feed(snap).anomalies
    assert of(found, "iv_jump") == []


@pytest.mark.parametrize(
    ("subtype", "mutation"),
    [
        ("crossed", lambda q, i: q["bid"].__setitem__(i, q["ask"][i] + 0.05)),
        ("negative", lambda q, i: q["bid"].__setitem__(i, -0.5)),
        ("missing_ask", lambda q, i: q["ask"].__setitem__(i, np.nan)),
    ],
)
def test_data_errors_are_reported_apart_and_suppress_market_rules(subtype, mutation):
    kit = ChainKit()
    i = kit.index("C", 600)
    found = run(kit, 4, {3: {"mutate": lambda q, *_: mutation(q, i)}})
    errs = of(found, "data_error")
    assert [(a.right, a.strike, a.evidence["subtype"]) for a in errs] == [("C", 600.0, subtype)]
    assert [a for a in found if a.type != "data_error"] == []


def test_nan_in_the_feed_is_a_data_error_but_null_is_not():
    kit = ChainKit()
    session = ScoringSession()
    for snap in kit.stream(T0, 2):
        session.feed(snap)
    raw = kit.snapshot(T0 + timedelta(seconds=2)).to_dict()
    for row in raw["contracts"]:
        if row["strike"] == 600.0 and row["right"] == "P":
            row["bid"] = float("nan")
    import json

    from spyglass.contract import Snapshot

    snap = Snapshot.from_json(json.dumps(raw))  # the literal NaN, as Python's json writes it
    found = session.feed(snap).anomalies
    assert [(a.right, a.strike, a.evidence["subtype"]) for a in found] == [("P", 600.0, "nonfinite")]


def test_far_otm_without_bid_is_normal():
    kit = ChainKit(width=40)
    found = run(kit, 5)
    assert found == []


def test_a_one_sided_ask_below_fair_is_a_cheap_mispricing():
    kit = ChainKit()
    i = kit.index("C", 601)

    def one_sided(q, k, call, fair):
        q["bid"][i] = np.nan
        q["ask"][i] = round(fair[i] - 0.12, 2)

    found = run(kit, 8, {s: {"mutate": one_sided} for s in range(4, 8)})
    hits = [a for a in of(found, "mispricing") if a.strike == 601.0]
    assert hits and hits[0].evidence["side"] == "cheap" and hits[0].evidence["one_sided"] is True


def test_an_ask_collapsed_to_a_penny_is_a_bad_print_not_a_bargain():
    kit = ChainKit()
    i = kit.index("C", 601)

    def collapse(q, *_):
        q["bid"][i] = np.nan
        q["ask"][i] = 0.01

    found = run(kit, 8, {s: {"mutate": collapse} for s in range(4, 8)})
    assert [a for a in found if a.type != "data_error"] == []
    errors = of(found, "data_error")
    assert [(a.right, a.strike, a.evidence["subtype"], a.evidence["state"]) for a in errors] == [
        ("C", 601.0, "outlier", "new")]
    assert errors[0].evidence["side"] == "ask"


def test_an_ask_only_line_that_is_pulled_is_not_a_data_error():
    kit = ChainKit(width=40)
    far = kit.index("C", 635)  # worthless: no bid, $0.01 ask

    def pull(q, *_):
        q["ask"][far] = np.nan

    found = run(kit, 4, {3: {"mutate": pull}})
    assert of(found, "data_error") == []


def test_a_jump_back_to_the_smile_ends_the_event_instead_of_starting_one():
    kit = ChainKit()
    ev = {s: shift("C", 602, 0.10, kit) for s in range(5, 9)}  # away from the smile at 5, back to it at 9
    found = run(kit, 12, ev)
    jumps = [(face(a, "iv_jump")[0]["direction_key"], a.evidence["state"]) for a in of(found, "iv_jump")
             if a.strike == 602.0]
    assert jumps == [("up", "new")]


def test_a_jump_through_the_smile_to_the_other_side_is_a_new_event():
    kit = ChainKit()
    ev = {s: shift("C", 601, 0.10, kit) for s in range(5, 9)} | {s: shift("C", 601, -0.10, kit) for s in range(9, 12)}
    found = run(kit, 12, ev)
    jumps = [(face(a, "iv_jump")[0]["direction_key"], a.evidence["state"]) for a in of(found, "iv_jump")
             if a.strike == 601.0]
    assert jumps == [("up", "new"), ("down", "new")]




def test_a_one_sided_mispricing_says_why_it_has_no_vol_hours_before_the_close():
    kit = ChainKit()
    i = kit.index("C", 601)

    def one_sided(q, k, call, fair):
        q["bid"][i] = np.nan
        q["ask"][i] = round(fair[i] - 0.12, 2)

    found = run(kit, 6, {s: {"mutate": one_sided} for s in range(3, 6)})
    (a,) = [a for a in of(found, "mispricing") if a.strike == 601.0]
    assert "one-sided quote has no implied vol" in a.evidence["summary"]
    assert "before the close" not in a.evidence["summary"]  # four hours out: not the near-close wording


def test_a_small_edge_is_reported_only_once_it_holds_for_a_second_snapshot():
    kit = ChainKit()
    flicker = run(kit, 12, {8: shift("P", 596, 0.05, kit)})  # one snapshot, a few ticks: what a fit's wobble looks like
    assert of(flicker, "mispricing") == []
    kit = ChainKit()
    held = run(kit, 12, {s: shift("P", 596, 0.05, kit) for s in range(8, 12)})
    (a,) = [a for a in of(held, "mispricing") if a.evidence["state"] == "new"]
    assert a.ts == T0 + timedelta(seconds=9) and a.evidence["edge_after_fees"] < 2 * 1.3  # from its second snapshot
