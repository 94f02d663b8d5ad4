"""The bot's feed in Azure: the signals table read with a read-only SAS, against a real Azurite."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableClient, TableSasPermissions, TableServiceClient, generate_table_sas

from devstack.azurite import DEV_ACCOUNT_NAME, PUBLIC_DEV_ACCOUNT_KEY, Azurite
from edge.bot.table_feed import TableSignalFeed
from functions.storage import upsert_all
from spyglass.contract import Anomaly
from spyglass.wire.tables import anomaly_entity
from tests.edge.bot.signals import NOW, mispricing

pytestmark = pytest.mark.xdist_group("azurite")


@pytest.fixture(scope="module")
def signals():
    """The signals table as ingest writes it, and a read-only SAS URL for it."""
    with Azurite(in_memory=True) as az:
        service = TableServiceClient.from_connection_string(az.connection_string)
        table = service.create_table_if_not_exists("signals")
        sas = generate_table_sas(AzureNamedKeyCredential(DEV_ACCOUNT_NAME, PUBLIC_DEV_ACCOUNT_KEY), "signals",
                                 permission=TableSasPermissions(read=True),
                                 expiry=datetime.now(timezone.utc) + timedelta(hours=1))
        yield table, f"{az.endpoint('table')}/signals?{sas}"


def store(table: TableClient, *docs: dict) -> None:
    upsert_all(table, [anomaly_entity(Anomaly.from_dict(d)) for d in docs])


def test_catches_up_then_delivers_new_signals_once_each(signals):
    table, url = signals
    early = mispricing(strike=600.0, ts=NOW - timedelta(seconds=10))
    store(table, early)
    clock = {"now": NOW}

    async def scenario():
        queue: asyncio.Queue = asyncio.Queue()
        feed = TableSignalFeed(url, "SPY", queue, mark=lambda: None, clock=lambda: clock["now"], ttl_seconds=30,
                               poll_seconds=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        first = await asyncio.wait_for(queue.get(), 10)  # the catch-up
        later = mispricing(strike=601.0, ts=NOW + timedelta(seconds=2))
        clock["now"] = NOW + timedelta(seconds=3)
        await asyncio.to_thread(store, table, later)
        second = await asyncio.wait_for(queue.get(), 10)  # a poll
        polls = feed.polls
        while feed.polls < polls + 5:  # several more polls overlap both signals
            await asyncio.sleep(0.05)
        stop.set()
        await task
        return feed, first, second, queue.qsize()

    feed, first, second, left = asyncio.run(scenario())
    assert (first[0]["id"], first[1]) == (Anomaly.from_dict(mispricing(strike=600.0, ts=NOW - timedelta(seconds=10))).id,
                                          "table")
    assert second[0]["strike"] == 601.0 and second[0]["evidence"]["side"] == "cheap"
    assert left == 0 and feed.delivered == 2 and feed.connected


def test_the_sas_reads_signals_and_nothing_else(signals):
    table, url = signals
    reader = TableClient.from_table_url(url)
    assert isinstance(list(reader.list_entities()), list)
    with pytest.raises(HttpResponseError) as refused:
        reader.upsert_entity({"PartitionKey": "SPY-20261124", "RowKey": "x"})
    assert refused.value.status_code == 403
