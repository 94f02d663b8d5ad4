from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from spyglass.contract import Snapshot
from spyglass.jsonl import dumps_snapshot
from spyglass.sim import InjectionConfig, SimConfig, model, resolve_session, simulate_day

from ._sim import by_key, rr25_from_quotes, ts
from tests.spyglass.simdays import MONDAY

OFF = InjectionConfig(enabled=False)


def short(**kw) -> SimConfig:
    base = dict(trading_date=MONDAY, seed=3, start="11:00", end="11:02", injection=OFF)
    base.update(kw)
    return SimConfig(**base)


def test_deterministic_for_a_seed():
    cfg = short(injection=InjectionConfig(rates={"mispricing": 200.0, "data_error": 200.0}, warmup_s=5))
    a_sim = simulate_day(cfg)
    a = list(a_sim)
    b_sim = simulate_day(cfg)
    b = list(b_sim)
    assert a == b or all(dumps_snapshot(x) == dumps_snapshot(y) for x, y in zip(a, b, strict=True))
    assert a_sim.labels == b_sim.labels and a_sim.labels
    c = list(simulate_day(short(seed=4)))
    assert [s["spot"] for s in c] != [s["spot"] for s in a]


def test_snapshot_fields_and_clock():
    snaps = list(simulate_day(short()))
    assert len(snaps) == 120
    first = snaps[0]
    assert first["schema"] == "chain-snapshot/1" and first["source"] == "sim"
    assert first["underlying"] == "SPY" and first["expiry"] == "2026-11-23"
    assert first["ts"] == "2026-11-23T16:00:00.000Z"  # 11:00 New York (EST)
    assert first["expiry_close"] == "2026-11-23T21:00:00.000Z"
    assert first["rate"] == pytest.approx(0.04)
    assert [s["seq"] for s in snaps] == list(range(120))
    assert all((ts(b["ts"]) - ts(a["ts"])).total_seconds() == 1.0 for a, b in zip(snaps, snaps[1:]))
    for s in snaps[:3]:
        Snapshot.from_json(dumps_snapshot(s))  # the public contract accepts it


def test_strike_grid_and_ticks():
    snaps = list(simulate_day(short(end="11:00:30")))
    s0 = snaps[0]
    calls = [c["strike"] for c in s0["contracts"] if c["right"] == "C"]
    puts = [c["strike"] for c in s0["contracts"] if c["right"] == "P"]
    assert calls == puts == sorted(calls)
    assert np.allclose(np.diff(calls), 1.0)
    assert all(float(k).is_integer() for k in calls)
    assert min(calls) >= 600 * 0.95 and max(calls) <= 600 * 1.05
    assert min(calls) - 1 < 600 * 0.95 and max(calls) + 1 > 600 * 1.05
    for s in snaps:
        assert [c["strike"] for c in s["contracts"] if c["right"] == "C"] == calls  # fixed listing
        for c in s["contracts"]:
            for key in ("bid", "ask"):
                v = c[key]
                if v is not None:
                    assert abs(v * 100 - round(v * 100)) < 1e-9 and v > 0
            assert c["bid"] is None or c["bid"] < c["ask"]
            assert isinstance(c["volume"], int) and isinstance(c["open_interest"], int)
            assert isinstance(c["bid_size"], int) and isinstance(c["ask_size"], int)
            assert (c["bid"] is None) == (c["bid_size"] == 0)


def test_other_underlyings_use_their_own_levels():
    q = next(iter(simulate_day(short(underlying="QQQ", end="11:00:01"))))
    i = next(iter(simulate_day(short(underlying="IWM", end="11:00:01"))))
    assert q["underlying"] == "QQQ" and 450 < q["spot"] < 600
    assert i["underlying"] == "IWM" and 180 < i["spot"] < 260
    custom = next(iter(simulate_day(short(underlying="XYZ", spot=50.0, end="11:00:01"))))
    ks = [c["strike"] for c in custom["contracts"] if c["right"] == "C"]
    assert custom["spot"] == 50.0 and ks == [48.0, 49.0, 50.0, 51.0, 52.0]


def test_atm_spreads_one_or_two_ticks(clean_day):
    _, snaps = clean_day
    widths = []
    for s in snaps[: len(snaps) - 120]:  # up to 15:40
        book = by_key(s)
        k = float(round(s["spot"]))
        for right in "CP":
            c = book[(right, k)]
            if c["bid"] is not None and c["ask"] >= 0.10:
                widths.append(round((c["ask"] - c["bid"]) * 100))
    widths = np.array(widths)
    assert np.mean((widths >= 1) & (widths <= 2)) >= 0.9
    assert np.median(widths) <= 2


def test_spreads_widen_with_premium_and_into_the_close(clean_day):
    _, snaps = clean_day
    noon = snaps[len(snaps) // 2]
    deep = [c for c in noon["contracts"] if c["bid"] is not None and c["bid"] > 10]
    assert deep and all(c["ask"] - c["bid"] >= 0.1 for c in deep)
    late = snaps[-24]  # 15:56
    assert ts(late["expiry_close"]) - ts(late["ts"]) == dt.timedelta(minutes=4)
    fracs = [
        (c["ask"] - c["bid"]) / ((c["ask"] + c["bid"]) / 2)
        for c in late["contracts"]
        if c["bid"] is not None and 0.5 <= (c["ask"] + c["bid"]) / 2 <= 3.0
    ]
    assert fracs and 0.04 <= float(np.median(fracs)) <= 0.09


def test_far_otm_one_sided(clean_day):
    _, snaps = clean_day
    shares = []
    for s in snaps[::60]:
        spot = s["spot"]
        one = [c for c in s["contracts"] if c["bid"] is None]
        shares.append(len(one) / len(s["contracts"]))
        assert all(c["ask"] <= 0.02 and c["bid_size"] == 0 for c in one)
        far = [c for c in s["contracts"] if abs(c["strike"] / spot - 1) > 0.03 and
               (c["right"] == "C") == (c["strike"] > spot)]
        assert far and all(c["bid"] is None and c["ask"] == 0.01 for c in far)
    assert 0.3 <= float(np.mean(shares)) <= 0.55


def test_risk_reversal_about_minus_three_points(clean_day):
    _, snaps = clean_day
    rrs = [rr25_from_quotes(s) for s in snaps[360:1800:180]]  # 10:30 .. 14:30
    assert -0.045 <= float(np.median(rrs)) <= -0.018
    assert all(r < 0 for r in rrs)


def test_late_skew_on_third_thursday_and_fridays():
    k = model.solve_skew(-0.03, 0.15, 0.05)
    assert model.rr25_multiplier(k, 0.05) * 0.15 == pytest.approx(-0.03, abs=1e-6)
    thu = simulate_day(SimConfig(trading_date=dt.date(2026, 11, 19), start="15:44", end="15:45", injection=OFF))
    fri = simulate_day(SimConfig(trading_date=dt.date(2026, 11, 20), start="15:44", end="15:45", injection=OFF))
    mon = simulate_day(SimConfig(trading_date=MONDAY, start="15:44", end="15:45", injection=OFF))
    assert mon.late_boost == 0.0 < fri.late_boost < thu.late_boost
    full = model.late_ramp(15.0)
    assert full == 1.0 and model.late_ramp(61.0) == 0.0
    rr_thu = model.rr25_multiplier(thu.skew0, 0.05, thu.late_boost * full) * thu.atm_vol0
    rr_fri = model.rr25_multiplier(fri.skew0, 0.05, fri.late_boost * full) * fri.atm_vol0
    assert rr_thu == pytest.approx(-0.17, abs=0.005)
    assert rr_fri == pytest.approx(-0.06, abs=0.005)
    # and the quotes show it: same seed, same spot path, a much dearer put below the money
    t_snap, m_snap = list(thu)[-1], list(mon)[-1]
    assert t_snap["spot"] == m_snap["spot"]
    k = float(math.floor(t_snap["spot"]) - 1)
    assert by_key(t_snap)[("P", k)]["ask"] >= 3 * by_key(m_snap)[("P", k)]["ask"]
    assert by_key(t_snap)[("C", k + 3)]["ask"] <= by_key(m_snap)[("C", k + 3)]["ask"]


def test_early_close_day():
    cfg = SimConfig(trading_date=dt.date(2026, 11, 27), interval_s=60.0, injection=OFF)
    ses = resolve_session(cfg)
    assert ses.close == dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.timezone.utc)  # 13:00 New York
    snaps = list(simulate_day(cfg))
    assert len(snaps) == 210
    assert snaps[-1]["ts"] == "2026-11-27T17:59:00.000Z"
    assert {s["expiry_close"] for s in snaps} == {"2026-11-27T18:00:00.000Z"}
    with pytest.raises(ValueError):
        resolve_session(SimConfig(trading_date=dt.date(2026, 11, 26)))  # Thanksgiving
    assert resolve_session(SimConfig(trading_date=MONDAY, end="17:00")).end.hour == 21  # clipped to close


def test_volume_cumulative_and_u_shaped(clean_day):
    _, snaps = clean_day
    vols = np.array([[c["volume"] for c in s["contracts"]] for s in snaps])
    assert (np.diff(vols, axis=0) >= 0).all()
    total = vols.sum(axis=1)
    per_bin = np.diff(total[:: len(snaps) // 13])  # half-hour bins
    assert per_bin[0] > per_bin[6] and per_bin[-1] > per_bin[6]
    oi = np.array([c["open_interest"] for c in snaps[0]["contracts"]])
    assert all((np.array([c["open_interest"] for c in s["contracts"]]) == oi).all() for s in snaps[::100])
    strikes = np.array([c["strike"] for c in snaps[0]["contracts"]])
    near = np.abs(strikes - 600) <= 3
    assert np.median(oi[near]) > 5 * np.median(oi[np.abs(strikes - 600) >= 20])
    daily = vols[-1]
    assert daily[near].mean() > 20 * daily[np.abs(strikes - 600) >= 20].mean()


def test_no_arbitrage_in_clean_quotes(clean_day):
    _, snaps = clean_day
    for s in snaps[::7]:
        c = s["contracts"]
        nk = len(c) // 2
        bid = np.array([x["bid"] or 0.0 for x in c])
        ask = np.array([x["ask"] for x in c])
        cb, ca, pb, pa = bid[:nk], ask[:nk], bid[nk:], ask[nk:]
        assert not (cb[1:] > ca[:-1] + 1e-9).any() and not (pb[:-1] > pa[1:] + 1e-9).any()
        assert not (2 * cb[1:-1] > ca[:-2] + ca[2:] + 1e-9).any()
        assert not (2 * pb[1:-1] > pa[:-2] + pa[2:] + 1e-9).any()


def test_start_after_open_carries_morning_volume():
    snaps = list(simulate_day(short(start="12:00", end="12:00:02")))
    assert sum(c["volume"] for c in snaps[0]["contracts"]) > 500_000


def test_full_day_size():
    ses = resolve_session(SimConfig(trading_date=MONDAY))
    assert ses.n_snapshots == 23_400 and math.isclose(ses.hours, 6.5)


def test_the_simulation_is_the_day_its_pieces_are_typed_against():
    """The schedule, injections and conditions see the day through ``sim.day`` protocols; the simulator
    must keep every member they name (a rename there would only fail deep inside a messy day)."""
    import inspect

    from spyglass.sim.day import Day, Lines

    sim = simulate_day(SimConfig(trading_date=MONDAY, start="10:00", end="10:01"))
    for proto, obj in ((Day, sim), (Lines, sim.schedule)):
        names = set(inspect.get_annotations(proto)) | {
            n for n, v in vars(proto).items() if not n.startswith("_") and (callable(v) or isinstance(v, property))
        }
        missing = sorted(n for n in names if not hasattr(obj, n))
        assert not missing, (proto.__name__, missing)
        assert len(names) >= 4
