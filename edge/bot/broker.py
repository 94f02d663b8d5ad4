"""IBKR through ib_async: leg quotes for the rules, and defined-risk BAG orders with ``orderRef`` = signal id.

Shadow mode connects read-only (quotes only; ``place`` refuses). Paper and live
connect with orders enabled; which account trades is the gateway's login (a
paper login for ``paper``), never decided here.

Idempotent placing: before sending, the broker looks for an order with the
same ``orderRef`` among this session's trades and every open order of the
gateway (``reqAllOpenOrders``); if one exists it is reported, not re-sent.
"""

from __future__ import annotations

import asyncio
import math
from datetime import date
from typing import Any

from ib_async import IB, ComboLeg, Contract, LimitOrder, Option, Trade

from edge.bot.rules import Plan, Quote
from edge.bot.settings import BotSettings
from spyglass.contract import Anomaly

PENDING = ("PendingSubmit", "ApiPending", "")


class BrokerError(RuntimeError):
    pass


def _price(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) and x > 0 else None


class IBBroker:
    def __init__(self, ib: IB, settings: BotSettings, readonly: bool) -> None:
        self.ib, self.settings, self.readonly = ib, settings, readonly
        self._con_ids: dict[tuple[str, str, float], int] = {}

    @classmethod
    async def connect(cls, settings: BotSettings, readonly: bool, timeout: float = 10.0) -> IBBroker:
        broker = cls(IB(), settings, readonly)
        await broker._connect(timeout)
        return broker

    async def _connect(self, timeout: float = 10.0) -> None:
        s = self.settings
        await self.ib.connectAsync(s.ib_host, s.ib_port, clientId=s.ib_client_id, timeout=timeout,
                                   readonly=self.readonly, account=s.ib_account)
        if s.mode == "paper":
            self.require_paper_account()

    def require_paper_account(self) -> None:
        """Paper mode trades only on paper accounts (IBKR paper account ids start with "D", e.g. DU1234567)."""
        accounts = self.ib.managedAccounts()
        if not accounts or not all(a.startswith("D") for a in accounts):
            self.ib.disconnect()
            raise BrokerError(f"paper mode, but the gateway is logged in to {accounts}: not a paper account")

    async def ensure_connected(self) -> None:
        """ib_async does not reconnect by itself (the gateway restarts nightly): reconnect on demand."""
        if not self.ib.isConnected():
            await self._connect()

    def close(self) -> None:
        self.ib.disconnect()

    def connected(self) -> bool:
        return self.ib.isConnected()

    async def _qualify(self, expiry: date, wanted: list[tuple[str, float]]) -> dict[tuple[str, float], Contract]:
        exp = expiry.strftime("%Y%m%d")
        u = self.settings.underlying
        contracts = [Option(u, exp, float(k), r, "SMART", currency="USD", tradingClass=u) for r, k in wanted]
        qualified = await self.ib.qualifyContractsAsync(*contracts)
        out = {}
        for (r, k), c in zip(wanted, qualified):
            if c is not None and c.conId:
                out[(r, float(k))] = c
                self._con_ids[(exp, r, float(k))] = c.conId
        return out

    async def quotes(self, expiry: date, wanted: list[tuple[str, float]]) -> dict[tuple[str, float], Quote]:
        """Current bid/ask of each listed (right, strike); unlisted or unquoted ones are left out."""
        await self.ensure_connected()
        contracts = await self._qualify(expiry, wanted)
        if not contracts:
            return {}
        keys = list(contracts)
        tickers = await self.ib.reqTickersAsync(*(contracts[k] for k in keys))
        by_con = {t.contract.conId: t for t in tickers}
        out = {}
        for k in keys:
            t = by_con.get(contracts[k].conId)
            if t is not None:
                out[k] = Quote(_price(t.bid), _price(t.ask))
        return out

    def existing(self, order_ref: str) -> Trade | None:
        return next((t for t in self.ib.trades() if t.order.orderRef == order_ref), None)

    async def place(self, signal: Anomaly, plan: Plan, quantity: int) -> dict[str, Any]:
        if self.readonly:
            raise BrokerError("read-only connection: shadow mode never places orders")
        await self.ensure_connected()
        trade = self.existing(signal.id)
        if trade is None:
            await self.ib.reqAllOpenOrdersAsync()
            trade = self.existing(signal.id)
        if trade is not None:
            return {**self._summary(trade), "existing": True}
        exp = signal.expiry.strftime("%Y%m%d")
        missing = [(g.right, g.strike) for g in plan.legs if (exp, g.right, g.strike) not in self._con_ids]
        if missing:
            await self._qualify(signal.expiry, missing)
        legs = []
        for g in plan.legs:
            con_id = self._con_ids.get((exp, g.right, g.strike))
            if con_id is None:
                raise BrokerError(f"{g.right} {g.strike:g} {exp} is not a listed contract")
            legs.append(ComboLeg(conId=con_id, ratio=abs(g.ratio), action="BUY" if g.ratio > 0 else "SELL",
                                 exchange="SMART"))
        bag = Contract(secType="BAG", symbol=self.settings.underlying, exchange="SMART", currency="USD",
                       comboLegs=legs)
        order = LimitOrder("BUY", quantity, plan.limit, orderRef=signal.id, tif="DAY",
                           account=self.settings.ib_account)
        trade = self.ib.placeOrder(bag, order)
        await self._acknowledged(trade)
        return {**self._summary(trade), "existing": False}

    async def _acknowledged(self, trade: Trade, timeout: float = 5.0) -> None:
        """Wait until the gateway has answered (status beyond PendingSubmit), polling the event loop."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while trade.orderStatus.status in PENDING and loop.time() < end:
            await asyncio.sleep(0.02)

    @staticmethod
    def _summary(trade: Trade) -> dict[str, Any]:
        s = trade.orderStatus
        errors = [e.message for e in trade.log if e.errorCode]
        return {"order_id": trade.order.orderId, "perm_id": trade.order.permId, "status": s.status or "PendingSubmit",
                "filled": s.filled, "avg_price": s.avgFillPrice, "errors": errors}
