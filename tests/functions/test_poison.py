"""`spyglass poison` against real Azurite: every message counted, the real reason, the real tries; replay."""

from __future__ import annotations

import base64
import subprocess
import sys

import orjson
import pytest
from azure.storage.blob import BlobServiceClient
from azure.functions.queue import QueueMessage  # what the host's converter builds, with the dequeue count
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions.poison import Inspector, body_digest
from spyglass.wire.queue import POISON_QUEUE, SNAPSHOT_QUEUE, encode_compact
from tests.functions.conftest import Out

MALFORMED = '{"schema":"chain-snapshot/1","underlying":"SPY"}'


def cli(conn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "functions.poison", *args], capture_output=True, text=True,
                          env={"AzureWebJobsStorage": conn, "PATH": "/usr/bin:/bin"}, timeout=120)


@pytest.fixture
def queues(azurite):
    """An empty poison queue and snapshot queue, as the host would write them (base64)."""
    conn = azurite.connection_string
    made = []
    for name in (POISON_QUEUE, SNAPSHOT_QUEUE):
        q = QueueClient.from_connection_string(conn, name, message_encode_policy=TextBase64EncodePolicy())
        try:
            q.delete_queue()
        except Exception:  # noqa: BLE001 - not there yet
            pass
        q.create_queue()
        made.append(q)
    return made


def test_every_message_is_listed_and_counted_past_32(azurite, queues):
    poison, _ = queues
    for n in range(49):
        poison.send_message(f'{{"schema":"chain-snapshot/1","n":{n}}}')
    listed = Inspector(azurite.connection_string).messages()
    assert len(listed) == 49 and len({m.id for m in listed}) == 49
    assert all(m.reason.startswith("invalid chain-snapshot/1") and m.tries is None for m in listed)
    out = cli(azurite.connection_string, "list")
    assert out.returncode == 0 and "49 message(s) in the poison queue" in out.stderr
    assert len(out.stdout.splitlines()) == 49 and "tries ?" in out.stdout
    again = Inspector(azurite.connection_string).messages()  # listing gave every message back, unchanged
    assert sorted((m.id, m.text) for m in again) == sorted((m.id, m.text) for m in listed)


def test_claim_check_failures_say_what_really_failed(azurite, queues):
    poison, _ = queues
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client("claim-checks")
    if not blobs.exists():
        blobs.create_container()
    gone, garbled = (f"edge/SPY/2026-11-24/2026-11-24T17:00:0{s}.000Z" for s in (1, 2))  # names the edge writes
    blobs.upload_blob(garbled, b"gz:not base64!", overwrite=True)
    for container, blob in (("claim-checks", gone), ("claim-checks", garbled), ("elsewhere", gone),
                            ("claim-checks", "../secrets")):
        poison.send_message(orjson.dumps({"schema": "claim-check/1", "container": container, "blob": blob}).decode())
    reasons = [m.reason for m in Inspector(azurite.connection_string).messages()]
    assert reasons[0] == f"claim-check blob claim-checks/{gone} does not exist"
    assert reasons[1].startswith("compact snapshot is not base64 gzip")
    assert reasons[2].startswith("claim-check container 'elsewhere' is not the configured claim-check container")
    assert reasons[3].startswith("claim-check blob name '../secrets' is not one the edge publisher writes")
    assert not any("no blob access" in r for r in reasons)


def test_a_failed_try_is_recorded_with_the_hosts_dequeue_count_and_error(app, azurite, queues):
    poison, _ = queues
    for count in (1, 2, 3):  # as the host delivers it: the same body, the dequeue count going up
        msg = QueueMessage(id="original-7", body=MALFORMED.encode(), dequeue_count=count, pop_receipt="p")
        with pytest.raises(Exception, match="invalid chain-snapshot/1"):
            app["ingest"](msg, Out())
    poison.send_message(MALFORMED)  # the host's copy: body only, a new id, dequeue count 0
    [m] = Inspector(azurite.connection_string).messages()
    assert (m.tries, m.original_id) == (3, "original-7") and m.reason.startswith("invalid chain-snapshot/1: ts:")
    shown = cli(azurite.connection_string, "show", m.id)
    assert shown.stdout.strip() == MALFORMED and "tries: 3, as message original-7" in shown.stderr


def test_a_failure_the_codec_does_not_see_keeps_its_own_reason(app, azurite, queues, monkeypatch):
    poison, _ = queues
    from functions import ingest

    def broken(*_a, **_k):
        raise RuntimeError("chain state kept changing (8 conflicts)")

    monkeypatch.setattr(ingest, "_arrive", broken)
    good = encode_compact(orjson.dumps({"schema": "chain-snapshot/1", "underlying": "SPY", "ts": "2026-11-24T17:00:00Z",
                                        "spot": 600.0, "expiry": "2026-11-24", "contracts": []}))
    with pytest.raises(RuntimeError):
        app["ingest"](QueueMessage(id="o-8", body=good.encode(), dequeue_count=2, pop_receipt="p"), Out())
    poison.send_message(good)
    [m] = Inspector(azurite.connection_string).messages()
    assert (m.tries, m.reason) == (2, "RuntimeError: chain state kept changing (8 conflicts)")


def test_replay_moves_what_it_is_asked_to_even_past_32_and_leaves_the_rest_as_it_was(azurite, queues):
    poison, target = queues
    for n in range(40):
        poison.send_message(f"message {n}")
    listed = Inspector(azurite.connection_string).messages()
    wanted = {listed[35].id, listed[39].id}
    assert Inspector(azurite.connection_string).replay(wanted) == 2
    moved = sorted(base64.b64decode(m.content).decode() for m in target.peek_messages(max_messages=32))
    assert moved == sorted(m.text for m in listed if m.id in wanted)  # as the host reads it: base64 once
    rest = Inspector(azurite.connection_string).messages()
    assert sorted((m.id, m.text) for m in rest) == sorted((m.id, m.text) for m in listed if m.id not in wanted)
    replayed = cli(azurite.connection_string, "replay")
    assert "replayed 38 message(s)" in replayed.stdout and Inspector(azurite.connection_string).messages() == []


def test_replaying_forgets_the_recorded_tries(app, azurite, queues):
    poison, _ = queues
    from functions import storage
    from functions.poison import failure_entity

    failures = storage.table("failures")
    failures.upsert_entity(failure_entity(b"x", "o-9", 3, ValueError("bad")))
    poison.send_message("x")
    assert [m.tries for m in Inspector(azurite.connection_string).messages()] == [3]
    Inspector(azurite.connection_string).replay()
    assert list(failures.query_entities("PartitionKey eq @pk", parameters={"pk": body_digest(b"x")})) == []
