"""The fake gateway's order messages decode field-for-field in ib_async's own Decoder (server version 178)."""

from __future__ import annotations

from ib_async.decoder import Decoder

from devstack.ibgateway.book import ComboLeg, FakeOrder
from devstack.ibgateway.orders import send_open_order, send_status


class Captured:
    client_id = 5

    def __init__(self):
        self.messages: list[list[str]] = []

    def send(self, *fields):
        self.messages.append(["" if f is None else ("1" if f is True else "0" if f is False else str(f))
                              for f in fields])


class Wrapper:
    def __init__(self):
        self.calls = []

    def openOrder(self, order_id, contract, order, state):
        self.calls.append(("openOrder", order_id, contract, order, state))

    def orderStatus(self, *args):
        self.calls.append(("orderStatus", *args))


def order() -> FakeOrder:
    contract = ["28812380", "SPY", "BAG", "", "0", "", "", "SMART", "", "USD", "", ""]
    legs = [ComboLeg(800000010, 1, "BUY", "SMART"), ComboLeg(800000012, 2, "SELL", "SMART")]
    return FakeOrder(5, 42, 1000777, contract, "BUY", 3.0, "LMT", -0.25, "DAY", "DU1234567", "sig-abc", legs,
                     status="Filled", filled=3.0, avg_price=-0.31)


def decode(messages):
    w = Wrapper()
    d = Decoder(w, 178)
    for m in messages:
        d.handlers[int(m[0])](m)
    return w.calls


def test_open_order_round_trips_through_ib_async():
    conn = Captured()
    send_open_order(conn, order())
    [(_, order_id, c, o, st)] = decode(conn.messages)
    assert order_id == 42 and o.orderId == 42 and o.clientId == 5 and o.permId == 1000777
    assert (c.secType, c.symbol, c.currency, c.exchange) == ("BAG", "SPY", "USD", "SMART")
    assert [(g.conId, g.ratio, g.action) for g in c.comboLegs] == [(800000010, 1, "BUY"), (800000012, 2, "SELL")]
    assert (o.action, o.totalQuantity, o.orderType, o.lmtPrice, o.tif) == ("BUY", 3.0, "LMT", -0.25, "DAY")
    assert o.orderRef == "sig-abc" and o.account == "DU1234567" and o.ocaType == 3
    assert st.status == "Filled" and o.whatIf is False


def test_order_status_round_trips_through_ib_async():
    conn = Captured()
    send_status(conn, order())
    [call] = decode(conn.messages)
    assert call == ("orderStatus", 42, "Filled", 3.0, 0.0, -0.31, 1000777, 0, -0.31, 5, "", 0.0)
