"""The fake gateway's request handlers for the session, contract data and market data (orders: orders.py).

Each handler takes ``(conn, fields)`` with ``fields[0]`` the client message id, exactly as
ib_async 2.1.0 encodes it at server version 178 (see ../shared/notes/ibkr.md, section 2.2).
"""

from __future__ import annotations

from devstack.ibgateway.connection import Connection, Handler, Subscription
from devstack.ibgateway.market import UNDERLYING_CON_ID, Listing
from devstack.ibgateway.streaming import quote_for, tick_frames

MESSAGES = {
    100: "Max rate of messages per second has been exceeded",
    101: "Max number of tickers has been reached",
    200: "No security definition has been found for the request",
    300: "Can't find EId with tickerId",
    354: "Requested market data is not subscribed.",
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2103: "Market data farm connection is broken:usopt",
    2104: "Market data farm connection is OK:usopt",
    10167: "Requested market data is not subscribed. Displaying delayed market data.",
    10197: "No market data during competing live session",
}
_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,GTC,LMT,MKT,NONALGO,OCA"
_LONG_NAME = "SPDR S&P 500 ETF TRUST"


# --- session ---------------------------------------------------------------------------------
def start_api(conn: Connection, fields: list[str]) -> None:
    conn.client_id = int(fields[2])
    conn.send(15, 1, conn.gateway.account)
    conn.send(9, 1, conn.gateway.next_order_id)


def positions(conn: Connection, fields: list[str]) -> None:
    conn.send(62, 1)


def completed_orders(conn: Connection, fields: list[str]) -> None:
    conn.send(102)


def account_updates(conn: Connection, fields: list[str]) -> None:
    if fields[2] == "1":
        conn.send(54, 1, fields[3] or conn.gateway.account)


def account_updates_multi(conn: Connection, fields: list[str]) -> None:
    conn.send(74, 1, int(fields[2]))


def executions(conn: Connection, fields: list[str]) -> None:
    conn.send(55, 1, int(fields[2]))


def current_time(conn: Connection, fields: list[str]) -> None:
    conn.send(49, 1, int(conn.gateway.now().timestamp()))


def market_data_type(conn: Connection, fields: list[str]) -> None:
    conn.market_data_type = int(fields[2])


# --- contracts -------------------------------------------------------------------------------
def _stock_details(conn: Connection, req_id: int) -> tuple:
    m = conn.gateway.market
    return (10, req_id, m.underlying, "STK", "", 0.0, "", "SMART", "USD", m.underlying, "NMS", m.underlying,
            UNDERLYING_CON_ID, 0.01, "", _ORDER_TYPES, "SMART,ARCA,NYSE,BATS", 1, 0, _LONG_NAME, "ARCA", "",
            "", "", "", "US/Eastern", m.hours.replace(":0930-", ":0400-").replace(":1600", ":2000"), m.hours,
            "", "", 0, 1, "", "", "26,26", "", "ETF", 1, 1, 1)


def _option_details(conn: Connection, req_id: int, o: Listing) -> tuple:
    m = conn.gateway.market
    return (10, req_id, m.underlying, "OPT", o.expiry, o.strike, o.right, "SMART", "USD", o.local_symbol,
            m.underlying, m.underlying, o.con_id, 0.01, "100", _ORDER_TYPES, "SMART,CBOE,AMEX,ISE,PHLX", 1,
            UNDERLYING_CON_ID, _LONG_NAME, "", o.expiry[:6], "", "", "", "US/Eastern", m.hours, m.hours,
            "", "", 0, 2, m.underlying, "STK", "32,109", o.expiry, "", 1, 1, 1)


def contract_details(conn: Connection, fields: list[str]) -> None:
    # 9, 8, reqId, conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, ...
    req_id, con_id, symbol, sec_type, ltd = int(fields[2]), int(fields[3] or 0), fields[4], fields[5], fields[6]
    strike = float(fields[7] or 0)
    right = {"CALL": "C", "PUT": "P"}.get(fields[8], fields[8])
    m = conn.gateway.market
    rows: list[tuple] = []
    if (sec_type == "STK" and symbol == m.underlying) or con_id == UNDERLYING_CON_ID:
        rows.append(_stock_details(conn, req_id))
    elif sec_type in ("OPT", "") and (symbol in (m.underlying, "") or con_id):
        for o in m.listing.values():
            if con_id and o.con_id != con_id:
                continue
            if ltd and ltd != o.expiry or strike and o.strike != strike or right and o.right != right:
                continue
            rows.append(_option_details(conn, req_id, o))
    if not rows:
        conn.error(req_id, 200, MESSAGES[200])
        return
    for row in rows:
        conn.send(*row)
    conn.send(52, 1, req_id)


def sec_def_opt_params(conn: Connection, fields: list[str]) -> None:
    # 78, reqId, underlyingSymbol, futFopExchange, underlyingSecType, underlyingConId
    req_id, symbol = int(fields[1]), fields[2]
    m = conn.gateway.market
    if symbol == m.underlying:
        strikes = m.strikes
        for exchange in ("SMART", "CBOE"):
            conn.send(75, req_id, exchange, UNDERLYING_CON_ID, m.underlying, "100",
                      len(m.expiries), *m.expiries, len(strikes), *strikes)
    conn.send(76, req_id)


def _resolve(conn: Connection, fields: list[str]) -> int | None:
    con_id, symbol, sec_type, ltd, strike, right = (int(fields[3] or 0), fields[4], fields[5], fields[6],
                                                    float(fields[7] or 0), fields[8])
    m = conn.gateway.market
    if con_id == UNDERLYING_CON_ID or (not con_id and sec_type == "STK" and symbol == m.underlying):
        return UNDERLYING_CON_ID
    if con_id:
        return con_id if con_id in m.listing else None
    if sec_type == "OPT" and symbol == m.underlying and ltd == m.expiry:
        return m.con_id({"CALL": "C", "PUT": "P"}.get(right, right), strike)
    return None


# --- market data -----------------------------------------------------------------------------
def market_data(conn: Connection, fields: list[str]) -> None:
    req_id = int(fields[2])
    i = 15
    if fields[5] == "BAG":
        i += 1 + 4 * int(fields[i])
    dnc = fields[i] == "1"
    i += 4 if dnc else 1
    generic, snapshot = fields[i], fields[i + 1] == "1"
    gw = conn.gateway
    con_id = _resolve(conn, fields)
    if con_id is None:
        conn.error(req_id, 200, MESSAGES[200])
        return
    if not snapshot and gw.lines() >= gw.max_lines:
        conn.error(req_id, 101, MESSAGES[101])
        return
    delayed = False
    if gw.entitlement == "delayed":
        if conn.market_data_type in (1, 2):
            conn.error(req_id, 354, MESSAGES[354])
            return
        delayed = True
        conn.error(req_id, 10167, MESSAGES[10167])
    sub = Subscription(req_id, con_id, frozenset(g.strip() for g in generic.split(",") if g.strip()), delayed)
    conn.send(81, req_id, 0.01, "SMART", 3)
    conn.send(58, 1, req_id, 3 if delayed else 1)
    if "competing" in gw.paused:
        conn.error(req_id, 10197, MESSAGES[10197])
    q = quote_for(gw.market, con_id)
    if q is not None and not gw.paused:
        conn.send_raw(b"".join(tick_frames(sub, q, None, gw.market)))
        sub.sent = q
    if snapshot:
        conn.send(57, 1, req_id)
        return
    conn.subscriptions[req_id] = sub


def cancel_market_data(conn: Connection, fields: list[str]) -> None:
    req_id = int(fields[2])
    if conn.subscriptions.pop(req_id, None) is None:
        conn.error(req_id, 300, f"{MESSAGES[300]}:{req_id}")


HANDLERS: dict[int, Handler] = {
    71: start_api,
    61: positions,
    99: completed_orders,
    6: account_updates,
    76: account_updates_multi,
    7: executions,
    49: current_time,
    59: market_data_type,
    9: contract_details,
    78: sec_def_opt_params,
    1: market_data,
    2: cancel_market_data,
}
