"""One event, one alert: incidents merge the faces of an event on a contract; floods become chain events."""

from __future__ import annotations

import numpy as np

from spyglass.contract import Anomaly
from spyglass.session import ScoringSession
from tests.spyglass.chainkit import T0, ChainKit
from tests.spyglass.detect.test_rules import QUICK
from tests.spyglass.test_contract import ANOMALY_VALIDATOR


def run(kit, seconds, events, session=None):
    session = session or ScoringSession()
    found = []
    for snap in kit.stream(T0, seconds, events):
        found += session.feed(snap).anomalies
    return found


def shift_many(kit, lines, by):
    idx = [kit.index(r, k) for r, k in lines]

    def mutate(q, *_):
        for i in idx:
            q["bid"][i] += by
            q["ask"][i] += by
    return {"mutate": mutate}


def test_a_rich_call_is_one_incident_with_its_parity_and_arbitrage_facets():
    kit = ChainKit()
    i = kit.index("C", 600)

    def rich(q, *_):  # bid far above fair: off the smile, off parity, and above its butterfly wings
        q["bid"][i] += 0.30
        q["ask"][i] += 0.30

    found = run(kit, 8, {s: {"mutate": rich} for s in range(4, 8)})
    assert len(found) == 1
    a = found[0]
    assert (a.type, a.right, a.strike) == ("mispricing", "C", 600.0)
    assert {f["type"] for f in a.facets} >= {"parity", "arbitrage"}
    assert a.severity == max((a.severity, *(f["severity"] for f in a.facets)), key=("low", "medium", "high").index)
    assert "also" in a.evidence["summary"]
    doc = a.to_dict()
    assert not list(ANOMALY_VALIDATOR.iter_errors(doc))
    assert Anomaly.from_dict(doc).to_dict() == doc  # the facets survive the wire


def test_a_single_finding_has_no_facets_and_its_json_is_unchanged():
    kit = ChainKit()
    i = kit.index("C", 600)
    found = run(kit, 60, {45: {"volume_add": {i: 3000}}}, ScoringSession(QUICK))
    assert [a.type for a in found] == ["volume_spike"]
    assert "facets" not in found[0].to_dict() and found[0].facets == ()


def priced(kit):
    from spyglass.analytics.pricing import price_chain
    from spyglass.config import DetectorConfig, underlying_spec

    return price_chain(kit.snapshot(T0), underlying_spec("SPY"), DetectorConfig())


def finding(type_, strike, direction, right="C"):
    from spyglass.detect.finding import Finding

    return Finding(type_, right, float(strike), 4.0, "medium", f"{type_}.x", f"{right} {strike} {type_}",
                   edge=5.0 if type_ != "iv_jump" else None, numbers={"direction_key": direction})


def test_many_lines_flagged_the_same_way_at_once_are_one_chain_event():
    from spyglass.config import DetectorConfig
    from spyglass.detect import floods

    p, cfg = priced(ChainKit()), DetectorConfig()
    rich = [finding("mispricing", k, "rich") for k in range(600, 606)]
    lone = [finding("mispricing", 590, "cheap"), finding("iv_jump", 595, "up")]
    out = floods.collapse(rich + lone, p, cfg)
    assert [f for f in out if f.strike is not None] == lone  # different directions and types stand alone
    (event,) = [f for f in out if f.strike is None]
    assert event.type == "iv_jump" and event.rule == "iv_jump.smile_shift"  # the fit holds: the smile moved
    assert event.numbers["count"] == 6 and event.numbers["contracts"][0] == "C 600"
    assert "the smile moved" in event.summary and "C 600" in event.summary
    # one fewer than the threshold is not a flood
    assert floods.collapse(rich[:cfg.flood_contracts - 1], p, cfg) == rich[:cfg.flood_contracts - 1]


def test_a_flood_under_a_fit_that_does_not_hold_is_a_data_error_not_a_market_event():
    from dataclasses import replace

    from spyglass.config import DetectorConfig
    from spyglass.detect import floods

    p = priced(ChainKit())
    bent = replace(p, fit=replace(p.fit, rms_half_spreads=6.0))
    (event,) = floods.collapse([finding("iv_jump", k, "down") for k in range(600, 607)], bent, DetectorConfig())
    assert event.type == "data_error" and event.numbers["subtype"] == "fit_unstable"


def test_parity_broken_the_same_way_at_many_strikes_blames_the_forward_and_arbitrage_floods_the_feed():
    from spyglass.config import DetectorConfig
    from spyglass.detect import floods

    p = priced(ChainKit())
    out = floods.collapse([finding("parity", k, "call rich") for k in range(590, 596)]
                          + [finding("arbitrage", k, "") for k in range(604, 610)], p, DetectorConfig())
    assert sorted((f.type, f.numbers["subtype"], f.numbers["count"]) for f in out) == [
        ("data_error", "forward", 6), ("data_error", "quotes_inconsistent", 6)]


def test_two_chain_events_of_one_type_in_a_snapshot_become_one_record():
    """A chain-level id is made of the chain, the snapshot and the type: two such findings would collide."""
    from spyglass.detect.finding import Finding
    from spyglass.detect.incidents import one_per_type_for_the_chain

    def chain_event(subtype, severity):
        return Finding("data_error", None, None, 6.0, severity, f"data_error.{subtype}", f"{subtype} happened",
                       numbers={"subtype": subtype})

    line = finding("mispricing", 600, "rich")
    emit = [(chain_event("fit_unstable", "medium"), "new", T0), (line, "new", T0),
            (chain_event("stale_quote", "high"), "new", T0)]
    out = one_per_type_for_the_chain(emit)
    assert [f.type for f, *_ in out] == ["data_error", "mispricing"]
    merged = out[0][0]
    assert merged.rule == "data_error.stale_quote" and merged.severity == "high"  # the more severe leads
    assert [f.rule for f in merged.facets] == ["data_error.fit_unstable"]
    assert "also fit_unstable happened" in merged.summary
