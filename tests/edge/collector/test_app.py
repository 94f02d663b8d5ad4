"""``spyglass collect`` composed: source -> recorder + publisher (Azurite) + ops endpoints."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest
from typer.testing import CliRunner

from devstack.azurite import Azurite
from devstack.ibgateway import FakeGateway, SimMarket
from devstack.proc import free_port
from edge.collector.app import CollectOptions, FanOut, collect, new_session
from edge.collector.ibkr import IbkrConfig
from edge.collector.recorder import Recorder, read_snapshot_lines
from spyglass.cli import app
from spyglass.contract import Snapshot
from tests.edge.collector.harness import DAY, T0
from tests.edge.collector.test_recorder_replay import sim_snapshots


def consume(conn: str) -> list[Snapshot]:
    """The queue's messages in order, decoded as the Functions ingest decodes them."""
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueClient, TextBase64DecodePolicy

    from spyglass.wire import queue as codec
    from spyglass.wire.queue import SNAPSHOT_QUEUE

    q = QueueClient.from_connection_string(conn, SNAPSHOT_QUEUE, message_decode_policy=TextBase64DecodePolicy())
    blobs = BlobServiceClient.from_connection_string(conn)
    out: list[Snapshot] = []
    while batch := list(q.receive_messages(max_messages=32, visibility_timeout=60)):
        for m in batch:
            out.append(codec.decode(m.content, lambda c, n, limit: blobs.get_blob_client(c, n).download_blob().readall()))
            q.delete_message(m)
    return out


def test_cli_replays_a_recording_into_a_new_one(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    rec = Recorder(src)
    snaps = sim_snapshots(5)
    for s in snaps:
        rec(s)
    rec.close()
    result = CliRunner().invoke(app, ["collect", "--source", "replay", str(src), "--speed", "0", "--record", str(out),
                                      "--ops-port", "-1", "--no-progress"])
    assert result.exit_code == 0, result.output
    [path] = list(out.iterdir())
    assert [Snapshot.from_json(r).to_dict() for r in read_snapshot_lines(path)] == [s.to_dict() for s in snaps]
    bad = CliRunner().invoke(app, ["collect", "--source", "replay", str(tmp_path / "missing"), "--ops-port", "-1"])
    assert bad.exit_code == 2 and "no such recording" in bad.output


def test_a_failing_sink_does_not_starve_the_others():
    got = []

    def broken(_s):
        raise OSError("disk full")

    fan = FanOut([broken, got.append])
    fan(sim_snapshots(1)[0])
    assert len(got) == 1 and fan.failures == 1


def test_each_run_stamps_its_own_session_and_replays_keep_theirs():
    first, again = new_session(datetime(2026, 11, 24, 15, tzinfo=timezone.utc)), new_session()
    assert first.startswith("20261124T150000.000Z-") and first != again
    got = []
    FanOut([got.append], first)(sim_snapshots(1)[0])
    FanOut([got.append], again)(got[0])  # a recorded snapshot keeps the session it was made in
    FanOut([got.append])(sim_snapshots(1)[0])  # a replay stamps nothing
    assert [s.session for s in got] == [first, first, None]
    assert Snapshot.from_json(got[0].to_json()).session == first


@pytest.mark.xdist_group("azurite")
def test_ibkr_to_queue_recorder_and_ops(tmp_path):
    """The production path: fake gateway -> ib_async -> snapshots -> spool -> Azurite queue, recorded, probed."""
    ops_port = free_port()

    async def scenario(conn: str):
        gw = FakeGateway(SimMarket(DAY, "11:00", interval_s=0.05), cadence=0.05, clock_start=T0)
        await gw.start()
        opts = CollectOptions(source="ibkr", ibkr=IbkrConfig(port=gw.port, lines=12), scan_interval=0.1,
                              record=str(tmp_path / "rec"), queue=conn, spool=str(tmp_path / "spool.db"),
                              ops_port=ops_port, ops_host="127.0.0.1", clock_start=T0)
        stop = asyncio.Event()
        seen = []
        task = asyncio.create_task(collect(opts, stop, extra_sinks=[seen.append]))
        ready = metrics = None
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops_port}") as http:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline:  # generous: the machine is shared with other test runs
                await asyncio.sleep(0.05)
                if len(seen) >= 5 and len(seen[-1].chain) == 10:
                    ready = await http.get("/readyz")
                    if ready.status_code == 200:
                        break
            metrics = (await http.get("/metrics")).text
            health = (await http.get("/healthz")).status_code
        stop.set()
        fan = await asyncio.wait_for(task, 15)
        await gw.stop()
        return seen, fan, ready, metrics, health

    with Azurite(in_memory=True) as az:
        seen, fan, ready, metrics, health = asyncio.run(scenario(az.connection_string))
        queued = consume(az.connection_string)
    assert ready is not None, f"no full snapshots: {[len(s.chain) for s in seen][-5:]}"
    assert ready.status_code == 200 and ready.text.startswith("ready: streaming;"), ready.text
    assert health == 200
    assert "spyglass_collector_ticks_total" in metrics and "spyglass_collector_market_data_lines" in metrics
    assert "spyglass_collector_market_open 1.0" in metrics  # T0 is 11:00 New York on a session day
    assert fan.failures == 0 and fan.count == len(seen)
    # every snapshot reached the queue in order, or waits in the spool for the next start
    from edge.collector.spool import Spool

    with Spool(tmp_path / "spool.db") as spool:
        left = spool.depth
    assert queued and [s.seq for s in queued] == [s.seq for s in seen[: len(queued)]]
    assert len(queued) + left == len(seen)
    assert queued[-1].to_dict() == seen[len(queued) - 1].to_dict()
    assert fan.session and {s.session for s in queued} == {fan.session}  # this run's producer session
    [path] = list((tmp_path / "rec").iterdir())
    assert sum(1 for _ in read_snapshot_lines(path)) == len(seen)


@pytest.mark.parametrize(("when", "open_"), [
    (datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc), 1.0),  # Tuesday 11:00 New York
    (datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc), 0.0),  # Thanksgiving
    (datetime(2026, 11, 27, 18, 30, tzinfo=timezone.utc), 0.0),  # 13:30 after the 13:00 early close
])
def test_the_market_open_gauge_follows_the_exchange_calendar(when, open_):
    from edge.collector import metrics
    from edge.collector.app import watch_market

    async def once():
        stop = asyncio.Event()
        task = asyncio.create_task(watch_market(lambda: when, stop))
        await asyncio.sleep(0.05)
        stop.set()
        await task

    metrics.MARKET_OPEN.set(-1)
    asyncio.run(once())
    assert metrics.MARKET_OPEN._value.get() == open_


def test_the_market_open_gauge_follows_the_sources_session_once_it_has_one():
    """The demo's simulated evening session is open for the gauge; the calendar says closed."""
    from edge.collector import metrics
    from edge.collector.app import watch_market
    from edge.collector.hours import Session

    evening = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)  # 18:30 New York: the exchange is closed
    simulated = Session(datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc),
                        datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc))

    async def once(session):
        stop = asyncio.Event()
        task = asyncio.create_task(watch_market(lambda: evening, stop, session=lambda: session))
        await asyncio.sleep(0.05)
        stop.set()
        await task
        return metrics.MARKET_OPEN._value.get()

    assert asyncio.run(once(None)) == 0.0
    assert asyncio.run(once(simulated)) == 1.0
