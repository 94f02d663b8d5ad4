"""Orders on the fake gateway: placeOrder, cancelOrder, reqOpenOrders / reqAllOpenOrders, answered with
openOrder and orderStatus exactly as ib_async 2.1.0 decodes them at server version 178.

``HANDLERS`` maps their client message ids to them; the server composes it with the session and
market-data handlers. Behaviour, as TWS: an order id re-sent by the same client modifies the
working order; a limit order (single option or a BAG combo of listed options) fills at once, at
the market's net price, when its limit is marketable against the simulator's current quotes,
and otherwise stays ``Submitted`` until cancelled. TWS does not deduplicate by ``orderRef``:
neither does this fake, so a client's idempotency is really tested. ``gateway.read_only = True``
refuses orders with error 321, like the API's "Read-Only" setting. Accepted orders are in
``gateway.order_book``.
"""

from __future__ import annotations

import itertools

from devstack.ibgateway.book import DONE, ComboLeg, FakeOrder
from devstack.ibgateway.connection import Connection, Handler

PLACE_ORDER, CANCEL_ORDER, REQ_OPEN_ORDERS, REQ_ALL_OPEN_ORDERS = 3, 4, 5, 16
OPEN_ORDER, ORDER_STATUS, OPEN_ORDER_END = 5, 3, 53
READ_ONLY = "Error validating request:-'bN' : cause - The API interface is currently in Read-Only mode."
_perm_ids = itertools.count(1_000_001)


def _f(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def parse_place_order(fields: list[str], client_id: int) -> FakeOrder:
    """Decode the leading fields of placeOrder (ib_async 2.1.0, server version >= 145: no version field)."""
    order_id, contract = int(fields[1]), fields[2:14]
    (action, qty, order_type, lmt, _aux, tif, _oca, account, _oc, _origin, order_ref) = fields[16:27]
    legs: list[ComboLeg] = []
    if contract[2] == "BAG":
        n, i = int(fields[35]), 36
        for _ in range(n):
            con_id, ratio, leg_action, exchange = fields[i:i + 4]
            legs.append(ComboLeg(int(con_id), int(ratio), leg_action, exchange))
            i += 8
    return FakeOrder(client_id, order_id, next(_perm_ids), contract, action, float(qty), order_type, _f(lmt),
                     tif, account, order_ref, legs)


def _legs_of(conn: Connection, o: FakeOrder) -> list[ComboLeg] | None:
    """The order's legs as listed conIds; a single option becomes a one-leg combo. None if not listed."""
    m = conn.gateway.market
    if o.legs:
        return o.legs if all(g.con_id in m.listing for g in o.legs) else None
    con_id = int(o.contract[0] or 0)
    if not con_id:
        right = {"CALL": "C", "PUT": "P"}.get(o.contract[5], o.contract[5])
        con_id = m.con_id(right, float(o.contract[4] or 0)) or 0
    return [ComboLeg(con_id, 1, "BUY", "SMART")] if con_id in m.listing else None


def market_price(conn: Connection, legs: list[ComboLeg], action: str) -> float | None:
    """Net price per unit to BUY (pay asks of bought legs, get bids of sold legs) or SELL the combo now."""
    quotes = conn.gateway.market.quotes
    total = 0.0
    for g in legs:
        q = quotes.get(g.con_id)
        if q is None:
            return None
        buying = (g.action == "BUY") == (action == "BUY")
        price = q.ask if buying else q.bid
        if price <= 0:
            return None
        total += g.ratio * price * (1 if g.action == "BUY" else -1)
    return round(total, 4)


def _try_fill(conn: Connection, o: FakeOrder, legs: list[ComboLeg]) -> None:
    if o.status in DONE or o.order_type != "LMT" or o.limit is None:
        return
    net = market_price(conn, legs, o.action)
    if net is None:
        return
    if (o.action == "BUY" and o.limit >= net) or (o.action == "SELL" and o.limit <= net):
        o.status, o.filled, o.avg_price = "Filled", o.quantity, net


def place_order(conn: Connection, fields: list[str]) -> None:
    client_id = conn.client_id or 0
    order_id = int(fields[1])
    if conn.gateway.read_only:
        conn.error(order_id, 321, READ_ONLY)
        return
    try:
        new = parse_place_order(fields, client_id)
    except (IndexError, ValueError) as exc:
        conn.error(order_id, 320, f"Error reading request: {exc}")
        return
    ob = conn.gateway.order_book
    key = (client_id, order_id)
    old = ob.orders.get(key)
    if old is not None and old.status in DONE:
        conn.error(order_id, 103, "Duplicate order id")
        return
    legs = _legs_of(conn, new)
    if legs is None:
        conn.error(order_id, 200, "No security definition has been found for the request")
        return
    if new.quantity <= 0 or new.order_type not in ("LMT", "MKT") or (new.order_type == "LMT" and new.limit is None):
        conn.error(order_id, 201, "Order rejected - reason:invalid quantity, order type or limit price")
        return
    if old is not None:  # a modification keeps the order's identity
        new.perm_id = old.perm_id
    ob.orders[key] = new
    ob.placed += 1
    conn.gateway.next_order_id = max(conn.gateway.next_order_id, order_id + 1)
    _try_fill(conn, new, legs)
    send_open_order(conn, new)
    send_status(conn, new)


def cancel_order(conn: Connection, fields: list[str]) -> None:
    order_id = int(fields[2])
    o = conn.gateway.order_book.orders.get((conn.client_id or 0, order_id))
    if o is None:
        conn.error(order_id, 135, f"Can't find order with id ={order_id}")
        return
    if o.status in DONE:
        conn.error(order_id, 10148, f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                                    f"state: {o.status}.")
        return
    o.status = "Cancelled"
    send_status(conn, o)


def open_orders(conn: Connection, fields: list[str]) -> None:
    """reqOpenOrders: this client's working orders; reqAllOpenOrders: everyone's."""
    every = int(fields[0]) == REQ_ALL_OPEN_ORDERS
    for o in conn.gateway.order_book.orders.values():
        if o.status not in DONE and (every or o.client_id == conn.client_id):
            send_open_order(conn, o)
            send_status(conn, o)
    conn.send(OPEN_ORDER_END, 1)


def send_status(conn: Connection, o: FakeOrder) -> None:
    # orderStatus: id, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice, clientId,
    # whyHeld, mktCapPrice
    conn.send(ORDER_STATUS, o.order_id, o.status, o.filled, o.quantity - o.filled, o.avg_price, o.perm_id, 0,
              o.avg_price, o.client_id, "", 0.0)


def send_open_order(conn: Connection, o: FakeOrder) -> None:
    """openOrder in the field order of ib_async's Decoder.openOrder at server version 178."""
    c = o.contract  # conId symbol secType ltd strike right multiplier exchange primaryExch currency local class
    legs_descrip = ",".join(f"{g.con_id}|{g.ratio if g.action == 'BUY' else -g.ratio}" for g in o.legs)
    fields: list[object] = [
        OPEN_ORDER, o.order_id, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[9], c[10], c[11],
        o.action, o.quantity, o.order_type, "" if o.limit is None else o.limit, "", o.tif, "", o.account, "O",
        0, o.order_ref, o.client_id, o.perm_id, 0, 0, 0, "", "", "", "", "",
        # modelCode .. deltaNeutralAuxPrice
        "", "", "", "", "", 0, "", 0, 0, "", "", "", "", "", 0, 0, 0, 0, "", 3, 0, 0, "", 0, 0, "", "", "", "",
        # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, basisPoints, basisPointsType
        0, "", "", "", "", "", legs_descrip, len(o.legs),
    ]
    for g in o.legs:
        fields += [g.con_id, g.ratio, g.action, g.exchange, 0, 0, "", -1]
    fields += [0, 0,  # order combo leg prices, smart combo routing params
               "", "", "",  # scale init/subs level size, price increment
               "",  # hedgeType
               0, "", "", 0, 0,  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, no delta neutral
               "",  # algoStrategy
               0, 0, o.status, "", "", "", "", "", "", "", "", "", "", "", "", "", "",  # solicited .. warningText
               0, 0,  # randomizeSize, randomizePrice
               0,  # conditions
               "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0,  # adjusted* .. usePriceMgmtAlgo
               "", 0, 0,  # duration, postToAts, autoCancelParent
               "", "", 0, "", ""]  # minTradeQty .. midOffsetAtHalf
    conn.send(*fields)


HANDLERS: dict[int, Handler] = {
    PLACE_ORDER: place_order,
    CANCEL_ORDER: cancel_order,
    REQ_OPEN_ORDERS: open_orders,
    REQ_ALL_OPEN_ORDERS: open_orders,
}
