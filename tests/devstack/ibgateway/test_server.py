"""The fake IB Gateway: wire framing, handshake bytes, the real ib_async client against it, extension."""

from __future__ import annotations

import asyncio
import struct
from datetime import date, datetime, timezone

import pytest
from ib_async import IB, Option, Stock
from ib_async.ib import StartupFetchNONE

from devstack.ibgateway import SERVER_VERSION, FakeGateway, SimMarket
from devstack.ibgateway.wire import FrameReader, encode, parse_version_range

DAY = date(2026, 11, 24)
T0 = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)  # 11:00 New York
def market(**kw) -> SimMarket:
    return SimMarket(DAY, "11:00", interval_s=0.05, **kw)


def test_framing_round_trip_and_split_reads():
    frames = encode(1, 6, 7, 1, 1.25, 10.0, 0) + encode(4, 2, -1, 2104, "farm OK", "")
    r = FrameReader()
    got = []
    for i in range(0, len(frames), 5):  # arbitrary TCP segmentation
        got += r.feed(frames[i : i + 5])
    assert got == [["1", "6", "7", "1", "1.25", "10.0", "0"], ["4", "2", "-1", "2104", "farm OK", ""]]
    assert r.pending == 0
    assert encode(None, True, False, float("nan")) == struct.pack(">I", 6) + b"\x001\x000\x00\x00"


def test_version_range():
    assert parse_version_range("v157..178") == (157, 178)
    assert parse_version_range("v100..200 +PACEAPI") == (100, 200)
    with pytest.raises(ValueError):
        parse_version_range("157-178")


def test_raw_handshake_bytes():
    async def run():
        async with FakeGateway(market(), cadence=0.05, clock_start=T0) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            payload = b"v100..200"
            writer.write(b"API\0" + struct.pack(">I", len(payload)) + payload)
            head = await reader.readexactly(4)
            body = await reader.readexactly(struct.unpack(">I", head)[0])
            version, conn_time = body.split(b"\0")[:2]
            writer.write(encode(71, 2, 5, ""))
            frames = FrameReader()
            got: list[list[str]] = []
            while len(got) < 2:
                got += frames.feed(await reader.read(4096))
            writer.close()
            return version, conn_time, got

    version, conn_time, got = asyncio.run(run())
    assert int(version) == SERVER_VERSION <= 178  # never above 200: the wire would turn protobuf
    assert conn_time.startswith(b"20261124 11:00")
    assert got == [["15", "1", "DU1234567"], ["9", "1", "1"]]


def test_real_client_discovery_and_streaming():
    async def run():
        async with FakeGateway(market(), cadence=0.05, clock_start=T0) as gw:
            ib = IB()
            await ib.connectAsync("127.0.0.1", gw.port, clientId=3, readonly=True, fetchFields=StartupFetchNONE,
                                  timeout=5)
            try:
                assert ib.client.serverVersion() == 178
                [und] = await ib.reqContractDetailsAsync(Stock("SPY", "SMART", "USD"))
                chains = await ib.reqSecDefOptParamsAsync("SPY", "", "STK", und.contract.conId)
                details = await ib.reqContractDetailsAsync(Option("SPY", "20261124", 0, "", "SMART", tradingClass="SPY"))
                unknown = await ib.reqContractDetailsAsync(Option("SPY", "20261124", 9999, "C", "SMART"))
                ticker = ib.reqMktData(details[len(details) // 2].contract, "101")
                for _ in range(100):
                    await asyncio.sleep(0.02)
                    if ticker.modelGreeks is not None and ticker.callOpenInterest == ticker.callOpenInterest:
                        break
                return und, chains, details, unknown, ticker, gw.lines()
            finally:
                ib.disconnect()

    und, chains, details, unknown, ticker, lines = asyncio.run(run())
    assert und.contract.conId and und.liquidHours.startswith("20261124:0930-20261124:1600")
    assert {c.exchange for c in chains} == {"SMART", "CBOE"}
    assert chains[0].expirations[0] == "20261124" and len(chains[0].expirations) == 5
    assert len(details) == 122 and {d.contract.right for d in details} == {"C", "P"}
    assert details[0].timeZoneId == "US/Eastern" and details[0].contract.multiplier == "100"
    assert unknown == []  # error 200
    assert ticker.bid > 0 and ticker.ask >= ticker.bid and ticker.volume >= 0
    assert ticker.modelGreeks is not None and ticker.modelGreeks.undPrice > 0
    assert ticker.callOpenInterest > 0 or ticker.putOpenInterest > 0
    assert lines == 1


def test_early_close_in_trading_hours():
    m = SimMarket(date(2026, 11, 27), "10:00")  # the day after Thanksgiving closes at 13:00
    assert m.hours.startswith("20261127:0930-20261127:1300;20261128:CLOSED")


def test_registered_handler_and_pacing_error():
    seen = []

    def echo(conn, fields):
        seen.append(fields)
        conn.send(49, 1, 42)

    async def run():
        gw = FakeGateway(market(), cadence=0.05, clock_start=T0)
        gw.register(49, echo)  # reqCurrentTime, replaced for this gateway only
        async with gw:
            ib = IB()
            ib.client.MaxRequests = 0  # no client throttle: let the gateway see the burst
            await ib.connectAsync("127.0.0.1", gw.port, clientId=4, readonly=True, fetchFields=StartupFetchNONE)
            try:
                t = await ib.reqCurrentTimeAsync()
                errors = []
                ib.errorEvent += lambda *a: errors.append(a[1])
                for _ in range(60):
                    ib.reqMarketDataType(1)
                for _ in range(50):
                    await asyncio.sleep(0.01)
                    if errors:
                        break
                return t, errors, gw.paced
            finally:
                ib.disconnect()

    t, errors, paced = asyncio.run(run())
    assert seen and t.timestamp() == 42
    assert 100 in errors and paced == 1


def test_standalone_entry_point_serves_the_real_client():
    """``python -m devstack.ibgateway --port N`` (what the demo runs), stopped by PID."""
    import os
    import signal
    import subprocess
    import sys

    from devstack.proc import REPO, free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "devstack.ibgateway", "--port", str(port), "--clock-start",
                             "2026-11-24T10:00"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert f"listening on 127.0.0.1:{port}" in line and "market day 2026-11-24" in line

        async def connect():
            ib = IB()
            await ib.connectAsync("127.0.0.1", port, clientId=9, readonly=True, fetchFields=StartupFetchNONE)
            try:
                return ib.client.serverVersion(), ib.managedAccounts()
            finally:
                ib.disconnect()

        assert asyncio.run(connect()) == (178, ["DU1234567"])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0


def test_handlers_are_composed_explicitly_whatever_was_imported():
    """Every gateway starts with the session, market-data and order handlers, each message answered once."""
    from devstack.ibgateway import DEFAULT_HANDLERS, handlers, orders

    assert not handlers.HANDLERS.keys() & orders.HANDLERS.keys()
    assert DEFAULT_HANDLERS == {**handlers.HANDLERS, **orders.HANDLERS}
    gw = FakeGateway(market(), clock_start=T0)
    assert gw.handlers == DEFAULT_HANDLERS and gw.handlers[5] is orders.open_orders
    gw.register(49, lambda conn, fields: None)
    assert FakeGateway(gw.market, clock_start=T0).handlers[49] is handlers.current_time
