"""The ibkr source: the real ib_async client over a socket against the fake IB Gateway."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import numpy as np

from edge.collector.ibkr import UNDERLYING
from tests.edge.collector.harness import Harness, run


def test_discovers_today_and_streams_a_centred_window():
    async def scenario():
        async with Harness(lines=100) as h:
            await h.until(lambda: h.full_window(), what="a full window")
            await h.more_snapshots(3)
            assert h.source.readiness() == (True, "streaming")
            return h, h.sent(9)

    h, details = run(scenario())
    snaps = h.snapshots
    s = snaps[-1]
    assert s.underlying == "SPY" and s.expiry == date(2026, 11, 24) and s.source == "ibkr"
    assert s.expiry_close == datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)  # 16:00 New York
    assert [x.seq for x in snaps] == list(range(len(snaps)))
    assert all(b.ts >= a.ts for a, b in zip(snaps, snaps[1:]))
    assert abs((s.ts - datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)).total_seconds()) < 60
    assert not s.delayed
    ks = sorted(set(s.chain.strike.tolist()))
    assert len(ks) == 49 and ks[0] < s.spot < ks[-1]  # ATM-centred
    assert abs((ks[0] + ks[-1]) / 2 - s.spot) <= 3
    assert details == 2  # the underlying, then ONE request for the whole expiry
    assert h.sent(78) == 1  # reqSecDefOptParams
    rows = s.chain.to_rows()
    assert any(r["open_interest"] for r in rows)  # generic tick 101
    assert all(r["bid"] is None or r["bid"] > 0 for r in rows)
    ages = s.chain.quote_age_ms  # receive timestamps: each line's newest tick, as an age at snapshot time
    assert np.isfinite(ages).all() and (ages >= 0).all() and np.median(ages) < 5_000
    assert h.gw.paced == 0


def test_sentinels_become_missing():
    """Far from the money the fake sends bid -1 size 0 (no bid): missing, never -1 or 0."""

    async def scenario():
        async with Harness(lines=100) as h:
            await h.until(lambda: h.full_window(), what="a full window")
            return h.snapshots[-1].chain.to_rows()

    rows = run(scenario())
    no_bid = [r for r in rows if r["bid"] is None]
    assert no_bid, "the wings should have one-sided lines"
    assert all(r["bid_size"] is None for r in no_bid)
    assert all(r["ask"] is None or r["ask"] > 0 for r in rows)


def test_line_cap_101_lowers_the_budget_and_stops_asking():
    async def scenario():
        async with Harness(lines=100, gateway_kw={"max_lines": 21}) as h:
            await h.until(lambda: 101 in [c for _, c in h.source.errors], what="error 101")
            await h.until(lambda: h.source.budget <= 20 and not h.source.pending_sub, what="budget lowered")
            await h.more_snapshots(5)
            refused = sum(1 for _, c in h.source.errors if c == 101)
            await h.more_snapshots(5)
            assert h.gw.lines() <= 21 and h.gw.lines() == len(h.source.active)
            return h, refused

    h, refused = run(scenario())
    assert refused == sum(1 for _, c in h.source.errors if c == 101)  # no more refusals once settled
    assert len(h.snapshots[-1].chain) == h.source.budget <= 20  # underlying + budget options <= 21


def test_delayed_fallback_is_flagged():
    """No live entitlement: 354 -> market data type 3 -> 10167 + delayed ticks -> snapshots flagged."""

    async def scenario():
        async with Harness(gateway_kw={"entitlement": "delayed"}) as h:
            await h.until(lambda: h.snapshots and h.snapshots[-1].delayed and len(h.snapshots[-1].chain) == h.options,
                          what="delayed snapshots")
            return h

    h = run(scenario())
    codes = {c for _, c in h.source.errors}
    assert {354, 10167} <= codes
    assert h.source.mdt == 3
    assert h.snapshots[-1].to_dict()["delayed"] is True
    types = [f for f in h.gw.received if f[0] == "59"]
    assert types[0][2] == "1" and types[-1][2] == "3"


def test_1101_resubscribes_and_resends_market_data_type():
    async def scenario():
        async with Harness() as h:
            await h.until(lambda: h.full_window(), what="a full window")
            types_before, subs_before = h.sent(59), h.sent(1)
            h.gw.connectivity_lost()
            await h.until(lambda: not h.source.ib_link, what="1100")
            assert h.source.readiness() == (False, "IB Gateway lost its link to IB (1100)")
            frozen, scans = len(h.snapshots), h.source.scans
            await h.until(lambda: h.source.scans >= scans + 3, what="three scans")
            assert len(h.snapshots) == frozen  # a frozen book is not published as if it were live
            h.gw.connectivity_restored(data_lost=True)
            assert h.gw.lines() == 0
            await h.until(lambda: h.gw.lines() == h.options + 1, what="resubscribed")
            n = len(h.snapshots)
            await h.more_snapshots(2)
            return h, types_before, subs_before, n

    h, types_before, subs_before, n = run(scenario())
    assert h.sent(59) == types_before + 1
    assert h.sent(1) >= subs_before + h.options + 1
    assert h.source.resubscribes == 1 and h.source.connects == 1
    assert len(h.snapshots[-1].chain) == h.options


def test_1102_keeps_subscriptions():
    async def scenario():
        async with Harness() as h:
            await h.until(lambda: h.full_window(), what="a full window")
            subs = h.sent(1)
            h.gw.connectivity_lost()
            h.gw.connectivity_restored(data_lost=False)
            await h.until(lambda: 1102 in [c for _, c in h.source.errors], what="1102")
            await h.more_snapshots(3)
            return h, subs

    h, subs = run(scenario())
    assert h.sent(1) == subs and h.source.resubscribes == 0 and h.source.ib_link


def test_competing_session_10197_and_farm_flaps():
    async def scenario():
        async with Harness() as h:
            await h.until(lambda: h.full_window(), what="a full window")
            h.gw.competing_session()
            await h.until(lambda: h.source.competing, what="10197")
            assert h.source.readiness() == (False, "competing live session (10197)")
            frozen, scans = len(h.snapshots), h.source.scans
            await h.until(lambda: h.source.scans >= scans + 3, what="three scans")
            assert len(h.snapshots) == frozen
            h.gw.competing_session(False)
            await h.until(lambda: not h.source.competing, what="data again")
            await h.more_snapshots(2)
            h.gw.farm(ok=False)
            await h.until(lambda: not h.source.farm_ok, what="2103")
            h.gw.farm(ok=True)
            await h.until(lambda: h.source.farm_ok, what="2104")
            await h.more_snapshots(2)
            assert h.source.readiness()[0]
            return h

    h = run(scenario())
    assert {10197, 2103, 2104} <= {c for _, c in h.source.errors}


def test_gateway_disconnect_and_restart_reconnect_and_resubscribe():
    async def scenario():
        async with Harness() as h:
            await h.until(lambda: h.full_window(), what="a full window")
            h.gw.drop_connections()
            await h.until(lambda: h.source.connects == 2 and h.gw.lines() == h.options + 1, what="reconnect 1")
            assert h.sent(59) >= 1  # market data type re-sent on the new connection
            await h.gw.restart(down_for=0.4)  # nightly reset: refused for a while
            await h.until(lambda: h.source.connects == 3 and h.gw.lines() == h.options + 1, what="reconnect 2")
            n = len(h.snapshots)
            await h.more_snapshots(3)
            return h, n

    h, n = run(scenario())
    assert [s.seq for s in h.snapshots] == list(range(len(h.snapshots)))  # seq continues across reconnects
    assert len(h.snapshots[-1].chain) == h.options


def test_recentres_as_spot_moves():
    async def scenario():
        async with Harness(hysteresis=2) as h:
            await h.until(lambda: h.full_window(), what="a full window")
            before = set(h.source.active)
            h.gw.market.spot += 5.0  # a jump of five strikes
            orig = h.gw.market.step
            def frozen_step():  # hold spot where we put it
                spot = h.gw.market.spot
                ok = orig()
                h.gw.market.spot = spot
                return ok
            h.gw.market.step = frozen_step
            await h.until(lambda: set(h.source.active) != before and not h.source.pending_sub
                          and not h.source.pending_cancel, what="re-centred")
            await h.more_snapshots(3)
            assert UNDERLYING in h.source.active and h.gw.lines() == h.options + 1
            return h, before

    h, before = run(scenario())
    s = h.snapshots[-1]
    ks = sorted(set(s.chain.strike.tolist()))
    assert abs((ks[0] + ks[-1]) / 2 - s.spot) <= 2
    assert 101 not in [c for _, c in h.source.errors] and h.gw.paced == 0


def test_waits_for_the_open():
    async def scenario():
        clock = datetime(2026, 11, 24, 13, 0, tzinfo=timezone.utc)  # 08:00 New York
        async with Harness(clock=clock) as h:
            await h.until(lambda: h.source.state.startswith("waiting for the open"), what="waiting")
            await asyncio.sleep(0.3)
            assert h.source.readiness()[0]  # idle by design is healthy
            assert h.gw.lines() == 0
            return h

    h = run(scenario())
    assert h.source.state == "waiting for the open at 09:30 New York"
    assert h.snapshots == [] and h.sent(1) == 0


def test_closed_after_an_early_close():
    """The day after Thanksgiving closes at 13:00: gate on the contract's hours, not on 16:00."""

    async def scenario():
        clock = datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc)  # 13:30 New York
        async with Harness(day=date(2026, 11, 27), clock=clock, sim_start="10:00") as h:
            await h.until(lambda: h.source.state.startswith("market closed"), what="closed")
            return h

    h = run(scenario())
    assert "since 13:00 New York" in h.source.state
    assert h.snapshots == [] and h.sent(1) == 0


def test_no_0dte_today_idles_with_a_reason():
    async def scenario():
        async with Harness(market_kw={"zero_dte": False}) as h:
            await h.until(lambda: "no 0DTE" in h.source.state, what="idle")
            await asyncio.sleep(0.3)
            return h

    h = run(scenario())
    assert h.source.state.startswith("idle: no 0DTE SPY expiry today (2026-11-24); next expirations: 20261125")
    assert h.snapshots == [] and h.sent(1) == 0
