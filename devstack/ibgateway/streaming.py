"""What the fake gateway puts on the wire for a market-data line: only what changed, as TWS does.

TWS aggregates each option every 100 ms and sends a tickPrice (price + size) when a price moved,
a tickSize when only the size did, and the model computation (tick 13) when the option's value
moved. Delayed lines (market data type 3/4 without a live subscription) use the delayed tick ids.
"""

from __future__ import annotations

from devstack.ibgateway.connection import Connection, Subscription
from devstack.ibgateway.market import UNDERLYING_CON_ID, Quote, SimMarket
from devstack.ibgateway.wire import encode

# tick ids: bid, ask, last, bidSize, askSize, lastSize, volume, model greeks
LIVE = (1, 2, 4, 0, 3, 5, 8, 13)
DELAYED = (66, 67, 68, 69, 70, 71, 74, 83)
CALL_OI, PUT_OI, HIST_VOL, IMPLIED_VOL, LAST_TIMESTAMP = 27, 28, 23, 24, 45


def quote_for(market: SimMarket, con_id: int) -> Quote | None:
    if con_id == UNDERLYING_CON_ID:
        return market.underlying_quote()
    return market.quotes.get(con_id)


def tick_frames(sub: Subscription, q: Quote, prev: Quote | None, market: SimMarket) -> list[bytes]:
    """The framed tick messages that bring a line from ``prev`` (None: nothing sent yet) to ``q``."""
    bid, ask, last, bid_sz, ask_sz, last_sz, volume, greeks = DELAYED if sub.delayed else LIVE
    rid = sub.req_id
    out: list[bytes] = []
    if prev is None or q.bid != prev.bid:
        out.append(encode(1, 6, rid, bid, q.bid, q.bid_size, 0))
    elif q.bid_size != prev.bid_size:
        out.append(encode(2, 6, rid, bid_sz, q.bid_size))
    if prev is None or q.ask != prev.ask:
        out.append(encode(1, 6, rid, ask, q.ask, q.ask_size, 0))
    elif q.ask_size != prev.ask_size:
        out.append(encode(2, 6, rid, ask_sz, q.ask_size))
    if q.last > 0 and (prev is None or q.last != prev.last):
        out.append(encode(1, 6, rid, last, q.last, 1.0, 0))
        if sub.con_id == UNDERLYING_CON_ID:
            out.append(encode(46, 6, rid, LAST_TIMESTAMP, int(market.ts.timestamp())))
    if q.volume >= 0 and (prev is None or q.volume != prev.volume):
        out.append(encode(2, 6, rid, volume, q.volume))
    if "101" in sub.generic and q.open_interest >= 0 and (prev is None or q.open_interest != prev.open_interest):
        listing = market.listing.get(sub.con_id)
        if listing is None:  # the underlying: total call and put open interest
            out.append(encode(2, 6, rid, CALL_OI, round(q.open_interest * 0.45)))
            out.append(encode(2, 6, rid, PUT_OI, round(q.open_interest * 0.55)))
        else:
            out.append(encode(2, 6, rid, CALL_OI if listing.right == "C" else PUT_OI, q.open_interest))
    if sub.con_id == UNDERLYING_CON_ID:
        if prev is None and "106" in sub.generic:
            out.append(encode(45, 6, rid, IMPLIED_VOL, round(market.atm_vol, 6)))
        if prev is None and "104" in sub.generic:
            out.append(encode(45, 6, rid, HIST_VOL, round(market.atm_vol * 0.9, 6)))
    elif sub.greeks and (prev is None or q.model_price != prev.model_price):
        out.append(encode(21, rid, greeks, 0, q.iv, q.delta, q.model_price, 0.0, q.gamma, q.vega, q.theta,
                          round(market.spot, 4)))
    return out


def push(conn: Connection, market: SimMarket, *, full: bool = False) -> int:
    """Send every line's changes (``full``: everything, every time); returns the messages sent."""
    n = 0
    frames: list[bytes] = []
    for sub in list(conn.subscriptions.values()):
        q = quote_for(market, sub.con_id)
        if q is None:
            continue
        prev = None if full else sub.sent
        if prev is not None and q == prev:
            continue
        part = tick_frames(sub, q, prev, market)
        sub.sent = q
        frames.extend(part)
        n += len(part)
    if frames:
        conn.send_raw(b"".join(frames))
    return n
