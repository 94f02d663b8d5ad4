"""The bot's signal feed against the real local stack: Functions host (negotiate, GET /api/signals), the local
SignalR service (serverless protocol) and Azurite's signals table, with pysignalr as the client.

Signals are stored in the signals table exactly as the ingest function stores them
(``spyglass.wire.tables.anomaly_entity``) and published live through the service's REST API.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from azure.data.tables import TableClient

from devstack.signalr.connection import as_connection, rest_token, rest_url, send
from devstack.stack import LocalStack
from edge.bot import audit
from edge.bot.app import Bot
from edge.bot.audit import AuditLog
from edge.bot.feed import SignalFeed
from edge.bot.gate import GateSettings
from edge.bot.ledger import Ledger
from edge.bot.runner import _work
from edge.bot.settings import BotSettings
from spyglass.contract import Anomaly
from spyglass.wire.tables import anomaly_entity
from tests.edge.bot.signals import chain_level, facet, incident, mispricing

pytestmark = pytest.mark.xdist_group("stack")
HUB = "spyglass"


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as s:
        yield s


def store(stack: LocalStack, raw: dict) -> None:
    t = TableClient.from_connection_string(stack.storage_connection, "signals")
    try:
        t.create_table()
    except Exception:  # noqa: BLE001 - exists
        pass
    t.upsert_entity(anomaly_entity(Anomaly.from_dict(raw)))


def signal(strike: float, age_s: float) -> dict:
    ts = datetime.now(timezone.utc) - timedelta(seconds=age_s)
    return mispricing("cheap", "C", strike, ts=ts, expiry=ts.date())


async def until(check, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def drop_clients(stack: LocalStack) -> int:
    """Close every client of the hub from the service side (REST DELETE), as a service restart would."""
    conn = as_connection(stack.signalr_connection)
    async with httpx.AsyncClient() as http:
        clients = (await http.get(f"{conn.endpoint}/devstack/connections", params={"hub": HUB})).json()
        for c in clients:
            url = rest_url(conn, HUB, connection_id=c["connectionId"])
            r = await http.delete(url, headers={"Authorization": f"Bearer {rest_token(conn, url)}"})
            assert r.status_code == 202
    return len(clients)


async def session(stack, tmp_path, body):
    s = BotSettings(mode="shadow", api=stack.api, function_key=stack.function_key, state_dir=tmp_path,
                    kill_switch_file=tmp_path / "kill")
    ledger = Ledger(s.ledger_path)
    bot = Bot(s, None, ledger, AuditLog(s.audit_path, s.mode))
    queue: asyncio.Queue = asyncio.Queue()
    feed = SignalFeed(stack.api, stack.function_key, "SPY", queue, ledger.mark,
                      lambda: datetime.now(timezone.utc), ttl_seconds=600)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(feed.run(stop)), asyncio.create_task(_work(bot, queue, stop))]
    try:
        await asyncio.wait_for(body(feed, ledger, queue), 60)
        await until(queue.empty)
    finally:
        stop.set()
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        ledger.close()


def test_live_catch_up_reconnect_and_restart_handle_each_signal_once(stack, tmp_path):
    a, b, c = signal(600, 30), signal(601, 20), signal(602, 10)
    store(stack, a)  # published before the bot connected: only catch-up can bring it

    async def first(feed, ledger, queue):
        await until(lambda: ledger.seen(a["id"]))
        await until(lambda: feed.connected)
        store(stack, b)  # ingest stores, then publishes
        send(stack.signalr_connection, HUB, "signal", [b])
        await until(lambda: ledger.seen(b["id"]))
        store(stack, c)  # stored, but its live message is lost (we pretend the publish raced a disconnect)
        assert await drop_clients(stack) == 1
        await until(lambda: feed.connects >= 2)
        await until(lambda: ledger.seen(c["id"]))

    asyncio.run(session(stack, tmp_path, first))

    async def restarted(feed, ledger, queue):  # a new process with the same state directory
        await until(lambda: feed.caught_up >= 3)

    asyncio.run(session(stack, tmp_path, restarted))
    records = audit.read(tmp_path / "audit.jsonl")
    decided = [(r["signal_id"], r["source"]) for r in records if r["event"] != "duplicate"]
    assert decided == [(a["id"], "catchup"), (b["id"], "signalr"), (c["id"], "catchup")]
    dupes = [r["signal_id"] for r in records if r["event"] == "duplicate"]
    assert dupes.count(a["id"]) >= 2 and dupes.count(b["id"]) >= 1 and dupes.count(c["id"]) >= 1
    assert all(r["reason"] for r in records if r["event"] == "skipped")


def test_an_incident_and_a_chain_level_finding_arrive_over_signalr_as_published(stack, tmp_path):
    now = datetime.now(timezone.utc)
    rich = incident(signal(603, 5), facet("parity", 9.0, direction="put rich"), facet("iv_jump", residual_vol_points=4))
    chain = chain_level(ts=now - timedelta(seconds=5))

    async def body(feed, ledger, queue):
        await until(lambda: feed.connected)
        send(stack.signalr_connection, HUB, "signal", [rich, chain])  # the records as ingest publishes them
        await until(lambda: ledger.seen(rich["id"]) and ledger.seen(chain["id"]))

    asyncio.run(session(stack, tmp_path, body))
    records = {r["signal_id"]: r for r in audit.read(tmp_path / "audit.jsonl") if r["source"] == "signalr"}
    assert records[rich["id"]]["type"] == "mispricing"
    assert [f["type"] for f in records[rich["id"]]["facets"]] == ["parity", "iv_jump"]
    assert records[chain["id"]]["strike"] is None and "facets" not in records[chain["id"]]
    assert records[chain["id"]]["event"] == "skipped"  # a chain-level finding is never traded, whatever the hour


def test_paper_bot_end_to_end_signalr_to_fake_gateway(stack, tmp_path):
    """The whole bot process path: runner -> SignalR (pysignalr) -> rules/risk -> ib_async -> fake gateway order.

    The gateway's clock runs from Monday 2026-11-23 10:00 New York (in the past, so the catch-up's
    ``since`` is valid) and the bot uses the same clock.
    """
    from datetime import date, time

    from devstack.stack import free_port
    from edge.bot.runner import run
    from edge.gateway_fake import FakeGateway, SimMarket
    from edge.gateway_fake import orders as fake_orders

    start = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)

    async def go():
        async with FakeGateway(SimMarket(date(2026, 11, 23), time(10, 0), seed=5), cadence=3600.0,
                               clock_start=start) as gw:
            s = BotSettings(mode="paper", api=stack.api, function_key=stack.function_key, state_dir=tmp_path,
                            kill_switch_file=tmp_path / "kill", ib_port=gw.port, ib_client_id=31, ops_port=free_port(),
                            gate=GateSettings(min_alerts=3))
            stop = asyncio.Event()
            task = asyncio.create_task(run(s, stop, ops_host="127.0.0.1", clock=gw.now))
            await until(lambda: ready(s.ops_port))  # /readyz: gateway and signal feed connected
            # the market grades earlier mispricing alerts over SignalR: enough, and positive, to open the gate
            send(stack.signalr_connection, HUB, "outcome", [
                {"anomaly_id": f"earned{n}", "underlying": "SPY", "alert_ts": f"2026-11-23T14:5{n}:00.000Z",
                 "type": "mispricing", "severity": "high", "horizon": "5m", "status": "ok", "mid": mid}
                for n, mid in enumerate((5.0, 6.0, 7.0))])
            await until(lambda: sum(r["event"] == "outcome" for r in _records(tmp_path)) == 3)
            m = gw.market
            k = min((x for x in m.strikes if m.con_id("P", x - 1.0)), key=lambda x: abs(x - m.spot))
            q = m.quotes[m.con_id("P", k)]
            raw = mispricing("cheap", "P", k, bid=q.bid, ask=q.ask, fair=q.ask + 0.6, ts=gw.now(),
                             expiry=date(2026, 11, 23))
            send(stack.signalr_connection, HUB, "signal", [raw])
            await until(lambda: fake_orders.book(gw).by_ref(raw["id"]))
            await until(lambda: any(r["event"] == "order_status" for r in _records(tmp_path)))
            send(stack.signalr_connection, HUB, "signal", [raw])  # at-least-once delivery: sent twice
            await until(lambda: any(r["event"] == "duplicate" for r in _records(tmp_path)))
            stop.set()
            await asyncio.wait_for(task, 20)
            return gw, raw

    gw, raw = asyncio.run(asyncio.wait_for(go(), 90))
    [order] = fake_orders.book(gw).by_ref(raw["id"])
    assert order.status == "Filled" and [g.action for g in order.legs] == ["BUY", "SELL"]
    records = [r for r in _records(tmp_path) if r.get("signal_id") == raw["id"]]
    events = [r["event"] for r in records]
    assert events[0] == "decided" and events[-1] == "duplicate" and events.count("placed") == 1, events
    assert records[0]["gate"]["open"] and records[0]["gate"]["n"] == 3  # the gate's state is on the record
    assert set(events[1:-1]) == {"placed", "order_status"}  # statuses may arrive while placing
    placed = next(r for r in records if r["event"] == "placed")
    assert placed["order"]["status"] == "Filled" and placed["plan"]["structure"] == "debit_vertical"
    assert any(r["event"] == "order_status" and r["status"] == "Filled" for r in records)


def _records(path):
    p = path / "audit.jsonl"
    return audit.read(p) if p.exists() else []


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_feed_with_a_wrong_key_keeps_retrying_without_connecting(stack):
    async def go():
        queue: asyncio.Queue = asyncio.Queue()
        feed = SignalFeed(stack.api, "wrong-key", "SPY", queue, lambda: None, lambda: datetime.now(timezone.utc),
                          ttl_seconds=30, max_backoff=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        await until(lambda: feed.attempts >= 3)  # refused (401) each time, retried with backoff
        stop.set()
        await asyncio.wait_for(task, 10)
        return feed, queue
    feed, queue = asyncio.run(go())
    assert feed.connects == 0 and not feed.connected and queue.empty()
