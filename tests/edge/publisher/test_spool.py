"""The spool on its own: order and contents across reopen, both bounds, settings from the environment."""

from __future__ import annotations

import pytest

from edge.collector.publish_settings import PublisherSettings, SettingsError
from edge.collector.spool import Spool, SpoolError, SpoolFull


def test_order_and_contents_survive_reopen(spool_path):
    with Spool(spool_path) as spool:
        ids = [spool.append(f"SPY:k{i}", i, f"gz:message-{i}") for i in range(6)]
        assert ids == sorted(ids)
        spool.remove(ids[:2])
    with Spool(spool_path) as spool:
        assert (spool.depth, spool.size_bytes) == (4, 4 * len("gz:message-0"))
        entries = spool.read_after(0, 3)
        assert [e.seq for e in entries] == [2, 3, 4] and entries[0].message == "gz:message-2"
        assert [e.seq for e in spool.read_after(entries[-1].id, 10)] == [5]
        spool.remove([e.id for e in entries] + [entries[0].id])  # an id twice counts once
        assert spool.depth == 1


def test_byte_bound_refuses_and_reopens_after_drain(spool_path):
    with Spool(spool_path, max_bytes=25) as spool:
        first = spool.append("k0", 0, "x" * 20)
        with pytest.raises(SpoolFull):
            spool.append("k1", 1, "y" * 10)
        assert spool.full and spool.depth == 1
        spool.remove([first])
        assert not spool.full
        spool.append("k1", 1, "y" * 10)


def test_closed_spool_and_bad_bounds_are_errors(spool_path):
    with pytest.raises(ValueError):
        Spool(spool_path, max_count=0)
    spool = Spool(spool_path)
    spool.close()
    with pytest.raises(SpoolError, match="closed"):
        spool.append("k", 0, "m")


def test_settings_pick_the_auth_and_reject_bad_values(tmp_path):
    conn = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:9/a;BlobEndpoint=http://127.0.0.1:9/a"
    s = PublisherSettings.from_env({"SPOOL_PATH": str(tmp_path / "s.db"), "SPOOL_MAX_SNAPSHOTS": "7",
                                    "STORAGE_CONNECTION_STRING": conn, "SNAPSHOT_QUEUE": "q-x"})
    assert (s.max_count, s.max_in_flight) == (7, 4)
    target = s.target()
    assert target.queue.queue_name == "q-x" and target.may_create and "connection string" in target.where
    sas = PublisherSettings.from_env({"QUEUE_SAS_URL": "https://acct.queue.core.windows.net/chain-snapshots?sv=x&sp=a&sig=secret"})
    assert sas.target().where == "https://acct.queue.core.windows.net/chain-snapshots (SAS)"
    entra = PublisherSettings.from_env({"STORAGE_QUEUE_URL": "https://acct.queue.core.windows.net",
                                        "STORAGE_BLOB_URL": "https://acct.blob.core.windows.net"}).target()
    assert "Entra" in entra.where and entra.claims is not None and not entra.may_create
    with pytest.raises(SettingsError, match="no queue auth"):
        PublisherSettings.from_env({}).target()
    with pytest.raises(SettingsError, match="SPOOL_MAX_BYTES"):
        PublisherSettings.from_env({"SPOOL_MAX_BYTES": "lots"})


def test_a_dead_drain_makes_the_publisher_not_ready(spool_path):
    from edge.collector.publish_queue import QueueTarget
    from edge.collector.publisher import Publisher
    from tests.edge.publisher.conftest import wait_until

    conn = "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:9/a"
    pub = Publisher(Spool(spool_path), QueueTarget.from_connection_string(conn, "q-dead"), idle_poll=0.02)
    pub.start()
    assert pub.readiness()[0]
    pub.spool.close()  # e.g. the PVC went away under it
    wait_until(lambda: not pub.readiness()[0], timeout=5, what="readiness to turn false")
    assert "drain stopped" in pub.readiness()[1]
    pub.stop(timeout=5)
