"""The orders a fake gateway has accepted: plain data, shared by the order handlers and the gateway state."""

from __future__ import annotations

from dataclasses import dataclass, field

DONE = ("Filled", "Cancelled", "ApiCancelled", "Inactive")


@dataclass
class ComboLeg:
    con_id: int
    ratio: int
    action: str  # BUY | SELL
    exchange: str


@dataclass
class FakeOrder:
    client_id: int
    order_id: int
    perm_id: int
    contract: list[str]  # the 12 contract fields as received
    action: str
    quantity: float
    order_type: str
    limit: float | None
    tif: str
    account: str
    order_ref: str
    legs: list[ComboLeg] = field(default_factory=list)
    status: str = "Submitted"
    filled: float = 0.0
    avg_price: float = 0.0


class OrderBook:
    """Every order the gateway has accepted, across connections (a restarted client sees its orders)."""

    def __init__(self) -> None:
        self.orders: dict[tuple[int, int], FakeOrder] = {}
        self.placed = 0  # placeOrder messages accepted, modifications included

    def by_ref(self, order_ref: str) -> list[FakeOrder]:
        return [o for o in self.orders.values() if o.order_ref == order_ref]
