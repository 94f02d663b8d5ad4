"""Scenarios and determinism: a seed is a day, and with the mess off it is the day the simulator always made."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import orjson
import pytest

from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import (
    CLEAN_SCENARIOS,
    INJECTED_TYPES,
    SCENARIOS,
    InjectionConfig,
    SimConfig,
    scenario_config,
    simulate_day,
)

from tests.spyglass.simdays import MONDAY

# sha256 (first 16 hex) of every snapshot line and the labels, recorded before the conditions existed
CLEAN_DAYS = {
    "off": (SimConfig(trading_date=MONDAY, seed=3, start="11:00", end="11:02", injection=InjectionConfig(enabled=False)),
            "ddd08dd80dc62a2c"),
    "busy": (SimConfig(trading_date=MONDAY, seed=7, start="10:00", end="10:06", jumps_per_day=2.0,
                       injection=InjectionConfig(rates={t: 60.0 for t in INJECTED_TYPES}, warmup_s=20.0)),
             "a40e4a6da3d9b118"),
    "qqq": (SimConfig(underlying="QQQ", trading_date=MONDAY, seed=5, start="09:30", end="09:33", interval_s=2.0),
            "3928cb2d46618611"),
}


def digest(cfg: SimConfig) -> str:
    h = hashlib.sha256()
    sim = simulate_day(cfg)
    for s in sim:
        h.update(dumps_snapshot(s) + b"\n")
    h.update(orjson.dumps(sim.labels, option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()[:16]


@pytest.mark.parametrize("name", list(CLEAN_DAYS))
def test_mess_off_is_the_day_the_simulator_always_made(name):
    """Byte for byte. (A numpy release that changed a distribution's stream would change these: re-record.)"""
    cfg, expected = CLEAN_DAYS[name]
    assert not cfg.messy
    assert digest(cfg) == expected
    if name == "off":  # SPY's own liquidity is the one every underlying had
        assert digest(dataclasses.replace(cfg, own_liquidity=True)) == expected


def test_same_seed_same_messy_day():
    cfg = scenario_config("messy", seed=4, end="10:00")
    a, b = simulate_day(cfg), simulate_day(cfg)
    sa, sb = [dumps_snapshot(s) for s in a], [dumps_snapshot(s) for s in b]
    assert sa == sb and a.labels == b.labels
    c = [dumps_snapshot(s) for s in simulate_day(scenario_config("messy", seed=5, end="10:00"))]
    assert c != sa


def test_scenarios_build_and_parse():
    assert {"clean", "clean_no_age", "stale", "stale_no_age", "fat_finger", "gap", "gap_twin", "early_close", "qqq",
            "session_start", "messy", "small_edges"} <= set(SCENARIOS)
    assert set(CLEAN_SCENARIOS) == {"clean", "clean_no_age", "gap_twin", "session_start"}
    for name in SCENARIOS:
        cfg = scenario_config(name, seed=1)
        assert cfg.messy and cfg.trade_volume is not None and cfg.quote_ages is not None
        assert (name in CLEAN_SCENARIOS) == (not cfg.injection.enabled and cfg.stale_blocks is None
                                             and cfg.fat_fingers is None and cfg.gap is None)
        first = next(iter(simulate_day(dataclasses.replace(cfg, end=None if name == "early_close" else cfg.end))))
        snap = Snapshot.from_json(dumps_snapshot(first))
        assert len(snap.chain.strike) == len(first["contracts"])
        assert ("quote_age_ms" in first["contracts"][0]) == (not name.endswith("no_age"))
    assert scenario_config("clean", 1, age_field=False).quote_ages.field is False
    assert scenario_config("stale", 1, "2026-11-23", end="10:30").end == "10:30"
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_config("nope")
    with pytest.raises(ValueError, match="early-close day"):
        scenario_config("early_close", trading_date=dt.date(2026, 11, 24))


def test_gap_twin_is_the_gap_day_before_the_gap(gap_pair):
    sim, snaps, twin = gap_pair
    (lb,) = [lb for lb in sim.labels if lb["subtype"] == "smile_shift"]
    before = [dumps_snapshot(s) for s in snaps if s["ts"] < lb["start"]]
    assert before and before == [dumps_snapshot(s) for s in twin if s["ts"] < lb["start"]]
    assert snaps[len(before)]["spot"] != twin[len(before)]["spot"]
