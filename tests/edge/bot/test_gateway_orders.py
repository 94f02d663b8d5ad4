"""The bot's broker with the real ib_async client over a socket against the fake IB Gateway (shadow and paper).

The fake gateway's market is frozen (its cadence is an hour) so the quotes the
rule prices from are the quotes the fake fills against.
"""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest

from edge.bot import audit
from edge.bot.app import Bot
from edge.bot.audit import AuditLog
from edge.bot.broker import BrokerError, IBBroker
from edge.bot.gate import GateSettings
from edge.bot.ledger import Ledger
from edge.bot.rules import Leg, Plan
from edge.bot.settings import BotSettings, RiskLimits
from edge.gateway_fake import FakeGateway, SimMarket
from edge.gateway_fake import orders as fake_orders
from spyglass.contract import Anomaly
from tests.edge.bot.signals import NOW, TODAY, mispricing

CLOCK = NOW + timedelta(seconds=1)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def gateway() -> FakeGateway:
    market = SimMarket(TODAY, time(10, 0), seed=3)
    return FakeGateway(market, cadence=3600.0, clock_start=NOW)


def settings(tmp_path, mode: str, port: int, client_id: int = 11) -> BotSettings:
    s = BotSettings(mode=mode, api="http://unused", function_key="k", state_dir=tmp_path, ib_port=port,
                    ib_client_id=client_id, kill_switch_file=tmp_path / "kill",
                    limits=RiskLimits(max_open_positions=3, max_daily_loss=1000.0), gate=GateSettings(min_alerts=3))
    proven(Ledger(s.ledger_path))
    return s


def proven(ledger: Ledger) -> None:
    """Mispricing alerts that earned money at the gate's horizon: the market's gate is open for them."""
    for n, mid in enumerate((5.0, 6.0, 7.0)):
        ledger.record_markout(f"earned{n}", "5m", "mispricing", f"2026-11-20T15:00:0{n}.000Z", mid)


def cheap_signal(gw: FakeGateway, edge: float = 0.5) -> dict:
    """A cheap-call mispricing at the listed strike nearest spot, with its wing listed and quoted."""
    m = gw.market
    k = min((s for s in m.strikes if m.con_id("C", s + 1.0) is not None), key=lambda s: abs(s - m.spot))
    q = m.quotes[m.con_id("C", k)]
    return mispricing("cheap", "C", k, bid=q.bid, ask=q.ask, fair=q.ask + edge)


def test_paper_places_one_defined_risk_combo_and_never_twice(tmp_path):
    async def go():
        async with gateway() as gw:
            s = settings(tmp_path, "paper", gw.port)
            broker = await IBBroker.connect(s, readonly=False)
            assert broker.ib.client.serverVersion() == 178
            bot = Bot(s, broker, Ledger(s.ledger_path), AuditLog(s.audit_path, s.mode), clock=lambda: CLOCK)
            raw = cheap_signal(gw)
            first = await bot.handle(raw, "signalr")
            again = await bot.handle(raw, "catchup")
            broker.close()
            return gw, raw, first, again
    gw, raw, first, again = run(go())
    assert first["event"] == "placed", first
    assert first["order"]["status"] == "Filled" and first["plan"]["structure"] == "debit_vertical"
    assert again["event"] == "duplicate"
    placed = fake_orders.book(gw).by_ref(raw["id"])
    assert len(placed) == 1 and fake_orders.book(gw).placed == 1
    o = placed[0]
    m = gw.market
    assert o.contract[2] == "BAG" and o.action == "BUY" and o.limit == first["plan"]["limit"]
    assert [(g.con_id, g.ratio, g.action) for g in o.legs] == [
        (m.con_id("C", raw["strike"]), 1, "BUY"), (m.con_id("C", raw["strike"] + 1.0), 1, "SELL")]
    events = [r["event"] for r in audit.read(tmp_path / "audit.jsonl")]
    assert events == ["decided", "placed", "duplicate"]


def test_same_order_ref_is_not_resent_after_a_restart_that_lost_the_ledger(tmp_path):
    """Second line of idempotency: the gateway's open orders are checked by orderRef."""
    signal = Anomaly.from_dict(mispricing())

    async def go():
        async with gateway() as gw:
            m = gw.market
            k = m.strikes[len(m.strikes) // 2]
            p = Plan(signal.id, "t", "debit_vertical", (Leg("C", k, 1), Leg("C", k + 1.0, -1)), 0.01, 2.3, 0)
            s = settings(tmp_path, "paper", gw.port)
            b1 = await IBBroker.connect(s, readonly=False)
            first = await b1.place(signal, p, 1)  # a 1-cent debit for a near-the-money vertical: stays working
            b1.close()
            b2 = await IBBroker.connect(s, readonly=False)  # a fresh process: no memory of the order
            second = await b2.place(signal, p, 1)
            other = await IBBroker.connect(settings(tmp_path, "paper", gw.port, client_id=12), readonly=False)
            third = await other.place(signal, p, 1)  # another client id sees it through reqAllOpenOrders
            b2.close()
            other.close()
            return gw, first, second, third
    gw, first, second, third = run(go())
    assert first["status"] == "Submitted" and not first["existing"]
    assert second["existing"] and second["order_id"] == first["order_id"]
    assert third["existing"]
    assert len(fake_orders.book(gw).by_ref(signal.id)) == 1


def test_shadow_prices_from_live_quotes_and_sends_nothing(tmp_path):
    async def go():
        async with gateway() as gw:
            s = settings(tmp_path, "shadow", gw.port)
            broker = await IBBroker.connect(s, readonly=True)
            bot = Bot(s, broker, Ledger(s.ledger_path), AuditLog(s.audit_path, s.mode), clock=lambda: CLOCK)
            raw = cheap_signal(gw)
            rec = await bot.handle(raw, "signalr")
            with pytest.raises(BrokerError, match="read-only"):
                await broker.place(Anomaly.from_dict(raw), Plan("x", "r", "s", (), 0.0, 0.0, 0.0), 1)
            broker.close()
            return gw, raw, rec
    gw, raw, rec = run(go())
    assert rec["event"] == "shadow", rec
    m = gw.market
    k = raw["strike"]
    expected = m.quotes[m.con_id("C", k)].ask - m.quotes[m.con_id("C", k + 1.0)].bid
    assert rec["plan"]["limit"] == pytest.approx(expected, abs=0.011)
    assert fake_orders.book(gw).placed == 0
    assert gw.connections == [] or all(c.client_id == 11 for c in gw.connections)


def test_read_only_gateway_refuses_paper_orders(tmp_path):
    async def go():
        async with gateway() as gw:
            gw.read_only = True
            s = settings(tmp_path, "paper", gw.port)
            broker = await IBBroker.connect(s, readonly=False)
            bot = Bot(s, broker, Ledger(s.ledger_path), AuditLog(s.audit_path, s.mode), clock=lambda: CLOCK)
            rec = await bot.handle(cheap_signal(gw), "signalr")
            broker.close()
            return gw, rec
    gw, rec = run(go())
    assert rec["event"] == "refused" and any("Read-Only" in e for e in rec["order"]["errors"]), rec
    assert fake_orders.book(gw).placed == 0


def test_cancel_and_modify_on_the_fake():
    """The fake's own order semantics that the bot relies on: cancel works once, a re-sent id modifies."""
    signal = Anomaly.from_dict(mispricing())

    async def go():
        async with gateway() as gw:
            m = gw.market
            k = m.strikes[len(m.strikes) // 2]
            p = Plan(signal.id, "t", "debit_vertical", (Leg("C", k, 1), Leg("C", k + 1.0, -1)), 0.01, 2.3, 0)
            b = await IBBroker.connect(BotSettings(ib_port=gw.port, ib_client_id=21), readonly=False)
            placed = await b.place(signal, p, 1)
            trade = b.existing(signal.id)
            trade.order.lmtPrice = 0.02
            b.ib.placeOrder(trade.contract, trade.order)  # modify
            await asyncio.sleep(0.2)
            b.ib.cancelOrder(trade.order)
            for _ in range(100):
                if trade.orderStatus.status == "Cancelled":
                    break
                await asyncio.sleep(0.02)
            b.close()
            return gw, placed, trade
    gw, placed, trade = run(go())
    assert trade.orderStatus.status == "Cancelled"
    [o] = fake_orders.book(gw).by_ref(signal.id)
    assert o.limit == 0.02 and o.status == "Cancelled" and fake_orders.book(gw).placed == 2
    assert trade.order.permId == o.perm_id


def test_paper_mode_refuses_a_live_account(tmp_path):
    async def go():
        market = SimMarket(TODAY, time(10, 0), seed=3)
        async with FakeGateway(market, cadence=3600.0, clock_start=NOW, account="U7654321") as gw:
            with pytest.raises(BrokerError, match="not a paper account"):
                await IBBroker.connect(settings(tmp_path, "paper", gw.port), readonly=False)
            shadow = await IBBroker.connect(settings(tmp_path, "shadow", gw.port), readonly=True)  # reads only
            shadow.close()
    run(go())


def test_broker_reconnects_after_the_gateway_dropped_it(tmp_path):
    async def go():
        async with gateway() as gw:
            broker = await IBBroker.connect(settings(tmp_path, "shadow", gw.port), readonly=True)
            gw.drop_connections()
            for _ in range(100):
                if not broker.connected():
                    break
                await asyncio.sleep(0.02)
            assert not broker.connected()
            k = gw.market.strikes[len(gw.market.strikes) // 2]
            quotes = await broker.quotes(TODAY, [("C", k), ("P", k)])
            reconnected = broker.connected()
            broker.close()
            return k, quotes, reconnected
    k, quotes, reconnected = run(go())
    assert reconnected and set(quotes) == {("C", k), ("P", k)}
    assert all(q.two_sided for q in quotes.values())
