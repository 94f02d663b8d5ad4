"""The collector's pure parts: line-budget window, re-centring, pacing, sentinels, hours, codes, discovery."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest

from edge.collector.chain import listing_from_details, pick_expiry, upcoming
from edge.collector.codes import Code, classify
from edge.collector.hours import current, next_open, parse_hours, session_on
from edge.collector.quotes import Quote, build_snapshot, clean_count, clean_greek, clean_price, clean_size, spot_from
from edge.collector.window import (RequestPacer, atm_index, needs_recentre, option_budget, plan, window,
                                   window_strikes)

STRIKES = [float(k) for k in range(570, 631)]
UTC = timezone.utc


def test_budget_default_is_underlying_plus_98_options():
    assert option_budget(100) == 98
    assert option_budget(1) == 0


def test_window_is_centred_and_ordered_from_the_money_out():
    lines = window(STRIKES, 600.3, 98)
    assert len(lines) == 98 and len(set(lines)) == 98
    ks = sorted({k for _, k in lines})
    assert ks[0] == 576 and ks[-1] == 624 and len(ks) == 49
    assert lines[:2] == [("C", 600.0), ("P", 600.0)]
    assert {k for _, k in lines[-2:]} <= {576.0, 624.0}


def test_window_at_the_edge_of_the_listing_shifts_inwards():
    assert window_strikes(STRIKES, atm_index(STRIKES, 560.0), 10) == STRIKES[:10]
    assert window_strikes(STRIKES, atm_index(STRIKES, 700.0), 10) == STRIKES[-10:]
    assert len(window(STRIKES[:5], 600, 98)) == 10  # fewer listed than the budget


def test_atm_index_ties_and_bounds():
    assert atm_index([1.0, 2.0], 1.5) == 0
    assert atm_index([1.0, 2.0], 1.51) == 1
    with pytest.raises(ValueError):
        atm_index([], 1.0)


def test_recentre_only_past_the_hysteresis():
    cur = window(STRIKES, 600.0, 98)
    assert not needs_recentre(STRIKES, cur, 601.2, hysteresis=2)
    assert needs_recentre(STRIKES, cur, 602.0, hysteresis=2)
    assert needs_recentre(STRIKES, [], 600.0)


def test_plan_cancels_before_subscribing_and_keeps_the_overlap():
    cur = window(STRIKES, 600.0, 20)
    new = window(STRIKES, 603.0, 20)
    move = plan(cur, new)
    assert len(move.cancel) == len(move.subscribe) == 6
    assert set(cur) - set(move.cancel) | set(move.subscribe) == set(new)
    assert len(cur) - len(move.cancel) + len(move.subscribe) <= 20  # never above the budget


def test_pacer_spends_tokens_at_its_rate():
    t = [0.0]
    p = RequestPacer(rate=30, burst=10, clock=lambda: t[0])
    assert p.take(50) == 10 and p.take(5) == 0
    t[0] = 0.5
    assert p.take(50) == 10  # 15 accrued, capped at the burst
    t[0] = 0.6
    assert p.take(50) == 3


@pytest.mark.parametrize("v, want", [(-1.0, None), (0.0, None), (math.nan, None), (None, None), (1.25, 1.25),
                                     (-0.05, -0.05)])
def test_clean_price(v, want):
    assert clean_price(v) == want


def test_clean_sizes_counts_and_greeks():
    assert clean_size(0.0) is None and clean_size(-1) is None and clean_size(math.nan) is None and clean_size(3) == 3
    assert clean_count(-1.0) is None and clean_count(0.0) == 0 and clean_count(math.nan) is None
    assert clean_greek(-2.0) is None and clean_greek(-0.3) == -0.3 and clean_greek(math.nan) is None


def test_quote_row_drops_the_size_of_a_missing_side_and_empty_lines():
    row = Quote("C", 600.0, bid=-1, ask=0.01, last=math.nan, volume=0, open_interest=-1, bid_size=0,
                ask_size=12).row()
    assert row == {"right": "C", "strike": 600.0, "bid": None, "ask": 0.01, "last": None, "volume": 0.0,
                   "open_interest": None, "bid_size": None, "ask_size": 12.0}
    assert Quote("P", 600.0, bid=math.nan, ask=math.nan, bid_size=math.nan, ask_size=math.nan).row() is None


def test_spot_prefers_last_inside_the_quote():
    assert spot_from(599.99, 600.01, 600.0) == 600.0
    assert spot_from(599.99, 600.01, 601.0) == 600.0
    assert spot_from(-1, -1, 600.5) == 600.5
    assert spot_from(math.nan, math.nan, math.nan) is None


def test_build_snapshot_is_a_valid_contract_message():
    ts = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    quotes = [Quote("C", 600.0, 1.5, 1.52, 1.51, 100, 2000, 10, 12), Quote("P", 600.0, -1, -1, -1, -1, -1, 0, 0)]
    snap = build_snapshot(underlying="SPY", expiry=date(2026, 11, 24), ts=ts, spot=600.0, quotes=quotes, seq=7,
                          expiry_close=datetime(2026, 11, 24, 21, 0, tzinfo=UTC), delayed=True)
    from spyglass.contract import Snapshot

    again = Snapshot.from_json(snap.to_json())
    assert again.seq == 7 and again.delayed and len(again.chain) == 1 and again.source == "ibkr"
    assert build_snapshot(underlying="SPY", expiry=date(2026, 11, 24), ts=ts, spot=None, quotes=quotes, seq=0) is None


def test_trading_hours_current_and_old_forms():
    text = "20261127:0930-20261127:1300;20261128:CLOSED;20261130:0930-20261130:1600"
    sessions = parse_hours(text, "US/Eastern")
    assert len(sessions) == 2
    s = session_on(sessions, date(2026, 11, 27))
    assert s.close == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 13:00 New York, early close
    assert current(sessions, datetime(2026, 11, 27, 17, 0, tzinfo=UTC)) == s
    assert current(sessions, datetime(2026, 11, 27, 18, 0, tzinfo=UTC)) is None
    assert next_open(sessions, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 14, 30,
                                                                                      tzinfo=UTC)
    old = parse_hours("20090507:0700-1830,1830-2330;20090508:CLOSED", "EST")
    assert len(old) == 2 and old[1].close.hour == 23
    with pytest.raises(ValueError):
        parse_hours("20261127:0930", "US/Eastern")


def test_error_codes():
    assert classify(10167) is Code.DELAYED and classify(1101) is Code.RESTORED_DATA_LOST
    assert classify(101) is Code.LINE_CAP and classify(2104) is Code.FARM_OK and classify(9999) is Code.OTHER


@dataclass
class Chain_:
    exchange: str
    tradingClass: str
    expirations: list


@dataclass
class C_:
    lastTradeDateOrContractMonth: str
    right: str
    strike: float
    conId: int


@dataclass
class CD_:
    contract: C_
    liquidHours: str = "20261124:0930-20261124:1600"
    tradingHours: str = ""
    timeZoneId: str = "US/Eastern"


def test_expiry_is_today_or_nothing():
    chains = [Chain_("CBOE", "SPY", ["20261124"]), Chain_("SMART", "SPY", ["20261125", "20261124", "20261127"])]
    assert pick_expiry(chains, date(2026, 11, 24), "SPY") == "20261124"
    assert pick_expiry(chains, date(2026, 11, 26), "SPY") is None
    assert pick_expiry(chains, date(2026, 11, 24), "SPYW") is None
    assert upcoming(chains, date(2026, 11, 24)) == ["20261125", "20261127"]


def test_listing_from_details():
    details = [CD_(C_("20261124", r, k, i)) for i, (r, k) in enumerate([("C", 600.0), ("P", 600.0), ("C", 601.0)])]
    details.append(CD_(C_("20261125", "C", 700.0, 99)))  # another expiry: ignored
    listing = listing_from_details("SPY", date(2026, 11, 24), details)
    assert listing.strikes == [600.0, 601.0] and listing.con_ids[("P", 600.0)] == 1
    assert listing.close() == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    listing.drop(("C", 601.0))
    assert listing.strikes == [600.0]
    with pytest.raises(ValueError):
        listing_from_details("SPY", date(2026, 11, 26), details)


def test_quote_age_is_carried_as_whole_milliseconds_and_never_negative():
    assert Quote("C", 600.0, 1.5, 1.52, age_ms=120.4).row()["quote_age_ms"] == 120
    assert Quote("C", 600.0, 1.5, 1.52, age_ms=-3.0).row()["quote_age_ms"] == 0  # clock jitter
    assert "quote_age_ms" not in Quote("C", 600.0, 1.5, 1.52).row()
