"""The publisher against real Azurite: round trip, claim-check, SAS auth, the bound's policy, an outage."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    generate_container_sas,
)
from azure.storage.queue import QueueClient, QueueSasPermissions, generate_queue_sas

from devstack.azurite import DEV_ACCOUNT_NAME, PUBLIC_DEV_ACCOUNT_KEY, Azurite
from edge.collector.publish_queue import QueueTarget, wire_size
from edge.collector.spool import SpoolFull
from spyglass.wire.queue import QUEUE_LIMIT, encode_compact
from tests.edge.publisher.conftest import (
    consume,
    make_snapshot,
    overtaken,
    sample,
    wait_until,
)

pytestmark = pytest.mark.xdist_group("edge-publisher")


def _queue(az: Azurite, name: str) -> QueueClient:
    q = QueueClient.from_connection_string(az.connection_string, name)
    q.create_queue()
    return q


@pytest.mark.parametrize("in_flight", [1, 4])
def test_round_trip_is_what_the_consumer_decodes(azurite, publisher_factory, in_flight):
    queue = f"q-roundtrip-{in_flight}"
    pub = publisher_factory(QueueTarget.from_connection_string(azurite.connection_string, queue),
                            max_in_flight=in_flight)
    sent = [make_snapshot(i) for i in range(12)]
    for s in sent:
        pub.submit(s)
    assert pub.depth == 12  # durable before any send: the drain has not started
    pub.start()
    wait_until(lambda: pub.depth == 0, what="the spool to drain")
    got = consume(azurite.connection_string, queue)
    assert sorted(s.seq for s in got) == list(range(12))
    by_seq = {s.seq: s for s in got}
    assert all(by_seq[s.seq].to_dict() == s.to_dict() for s in sent)
    assert overtaken([s.seq for s in got]) <= in_flight - 1  # one in flight: strictly in order


def test_a_snapshot_over_64_kib_goes_by_claim_check(azurite, publisher_factory):
    big = make_snapshot(0, contracts=4000, noisy=True)
    assert wire_size(encode_compact(big.to_json())) > QUEUE_LIMIT  # really too large for a message
    small = make_snapshot(1)
    pub = publisher_factory(QueueTarget.from_connection_string(azurite.connection_string, "q-claim", "claims-cc"))
    before = sample("spyglass_collector_claim_checks_total")
    pub.submit(big)
    pub.submit(small)
    pub.start()
    wait_until(lambda: pub.depth == 0, what="the spool to drain")
    raw = QueueClient.from_connection_string(azurite.connection_string, "q-claim").peek_messages(max_messages=2)
    assert any('"claim-check/1"' in _b64(m.content) for m in raw)  # the message is a reference, not the data
    got = {s.seq: s for s in consume(azurite.connection_string, "q-claim", "claims-cc")}
    assert got[0].to_dict() == big.to_dict() and got[1].to_dict() == small.to_dict()
    assert sample("spyglass_collector_claim_checks_total") == before + 1
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client("claims-cc")
    assert [b.name for b in blobs.list_blobs()] == ["edge/SPY/2026-11-24/2026-11-24T15:00:00.000Z-0"]


def test_add_only_sas_sends_and_cannot_read(azurite, publisher_factory):
    _queue(azurite, "q-sas")
    expiry = datetime.now(UTC) + timedelta(hours=1)
    sas = generate_queue_sas(DEV_ACCOUNT_NAME, "q-sas", PUBLIC_DEV_ACCOUNT_KEY,
                             permission=QueueSasPermissions(add=True), expiry=expiry)
    queue_url = f"{azurite.endpoint('queue')}/q-sas?{sas}"
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    blobs.create_container("claims-sas")
    csas = generate_container_sas(DEV_ACCOUNT_NAME, "claims-sas", PUBLIC_DEV_ACCOUNT_KEY,
                                  permission=ContainerSasPermissions(create=True, write=True), expiry=expiry)
    pub = publisher_factory(QueueTarget.from_sas_url(queue_url, f"{azurite.endpoint('blob')}/claims-sas?{csas}"))
    assert "sig=" not in pub.target.where  # the SAS never reaches the logs
    pub.submit(make_snapshot(0))
    pub.submit(make_snapshot(1, contracts=4000, noisy=True))  # the claim-check upload works with the container SAS
    pub.start()
    wait_until(lambda: pub.depth == 0, what="the spool to drain")
    with pytest.raises(HttpResponseError) as refused:
        list(QueueClient.from_queue_url(queue_url).receive_messages())
    assert refused.value.status_code == 403
    with pytest.raises(HttpResponseError):
        QueueClient.from_queue_url(queue_url).clear_messages()
    assert sorted(s.seq for s in consume(azurite.connection_string, "q-sas", "claims-sas")) == [0, 1]


def test_full_spool_refuses_new_snapshots_loudly_and_keeps_the_old(azurite, publisher_factory, caplog):
    pub = publisher_factory(QueueTarget.from_connection_string(azurite.connection_string, "q-full"), max_count=5)
    refused_before = sample("spyglass_collector_spool_refused_total")
    for i in range(5):
        pub.submit(make_snapshot(i))
    assert pub.readiness()[0]
    with caplog.at_level(logging.ERROR, logger="edge.collector.spool"), pytest.raises(SpoolFull, match="refused"):
        pub.submit(make_snapshot(5))
    assert any(r.levelno == logging.ERROR and "SPOOL FULL" in r.message for r in caplog.records)
    with pytest.raises(SpoolFull):
        pub.submit(make_snapshot(6))
    assert sample("spyglass_collector_spool_refused_total") == refused_before + 2
    assert sample("spyglass_collector_spool_full") == 1
    ready, reason = pub.readiness()
    assert not ready and "spool full" in reason
    assert pub.depth == 5  # nothing accepted was dropped to make room
    pub.start()
    wait_until(lambda: pub.depth == 0, what="the spool to drain")
    assert pub.readiness()[0] and sample("spyglass_collector_spool_full") == 0
    pub.submit(make_snapshot(7))  # accepting again
    wait_until(lambda: pub.depth == 0, what="the spool to drain")
    assert sorted(s.seq for s in consume(azurite.connection_string, "q-full")) == [0, 1, 2, 3, 4, 7]


def test_queue_outage_spools_then_drains_in_order(azurite, publisher_factory):
    target = QueueTarget.from_connection_string(azurite.connection_string, "q-outage")
    pub = publisher_factory(target)
    pub.start()
    for i in range(20):
        pub.submit(make_snapshot(i))
    wait_until(lambda: pub.depth == 0, what="the first 20 to be sent")
    failures = sample("spyglass_collector_send_failures_total")
    azurite.stop()
    try:
        for i in range(20, 80):
            pub.submit(make_snapshot(i))  # never blocks on the network
        wait_until(lambda: sample("spyglass_collector_send_failures_total") >= failures + 4, what="sends to fail")
        assert pub.depth >= 57  # at most the in-flight window left before Azurite went away
        ready, reason = pub.readiness()
        assert ready and "queue failing" in reason  # spooling is the edge doing its job, not a fault
    finally:
        azurite.restart()
    wait_until(lambda: pub.depth == 0, timeout=30, what="the spool to drain after the outage")
    assert "queue failing" not in pub.readiness()[1]
    seqs = [s.seq for s in consume(azurite.connection_string, "q-outage")]
    assert set(seqs) == set(range(80))  # nothing lost
    assert len(seqs) - 80 <= pub.max_in_flight  # at least once; duplicates only from sends cut by the outage
    assert overtaken(seqs) <= pub.max_in_flight - 1


def _b64(text: str) -> str:
    import base64

    return base64.b64decode(text).decode()
