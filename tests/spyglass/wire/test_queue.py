import base64
import gzip
from datetime import datetime, timezone

import orjson
import pytest

from spyglass.wire.queue import (MAX_SNAPSHOT_BYTES, QUEUE_LIMIT, MessageError, SnapshotError, claim_name,
                                 claim_reference, decode, encode_compact, gunzip, unwrap_held, wake_message, wake_of)
from tests.spyglass.chainkit import T0, ChainKit


@pytest.fixture
def snapshot():
    return ChainKit(width=60).snapshot(T0)


def test_public_json_and_compact_decode_to_the_same_snapshot(snapshot):
    raw = snapshot.to_json()
    compact = encode_compact(raw)
    assert len(raw) > 20_000 and len(compact) < QUEUE_LIMIT // 3
    assert decode(raw).to_json() == decode(compact).to_json() == raw


NAME = "edge/SPY/2026-11-24/2026-11-24T17:00:00.000Z-7"  # as claim_name (the edge publisher) names it


def ref(container: str = "claim-checks", blob: str = NAME) -> bytes:
    return orjson.dumps({"schema": "claim-check/1", "container": container, "blob": blob})


def test_claim_check_fetches_the_blob(snapshot):
    store = {("claim-checks", NAME): encode_compact(snapshot.to_json()).encode()}
    assert decode(ref(), lambda c, b, limit: store[(c, b)]).to_json() == snapshot.to_json()
    assert decode(ref(blob=NAME[:-2]), lambda c, b, limit: snapshot.to_json()).to_json() == snapshot.to_json()
    with pytest.raises(MessageError, match="given no blob access"):
        decode(ref())


def test_the_publisher_names_and_references_a_claim_check_as_the_reader_accepts(snapshot):
    name = claim_name(snapshot.key, 7)
    assert claim_name(snapshot.key, None) == name[:-2] and name.startswith("edge/SPY/2026-11-24/")
    body = encode_compact(snapshot.to_json()).encode()
    assert decode(claim_reference("claim-checks", name), lambda c, b, limit: body).to_json() == snapshot.to_json()


@pytest.mark.parametrize(("container", "blob", "match"), [
    ("private", NAME, "is not the configured claim-check container 'claim-checks'"),
    ("claim-checks", "../private/secret.json", "not one the edge publisher writes"),
    ("claim-checks", "edge/SPY/2026-11-24/2026-11-24T17:00:00.000Z/../../x", "not one the edge publisher writes"),
    ("claim-checks", "edge/spy/2026-11-24/2026-11-24T17:00:00.000Z", "not one the edge publisher writes"),
])
def test_claim_checks_read_only_the_configured_container_and_publisher_names(snapshot, container, blob, match):
    fetched = []
    with pytest.raises(MessageError, match=match):
        decode(ref(container, blob), lambda c, b, limit: fetched.append((c, b)) or b"")
    assert fetched == []  # refused before any read


def test_a_claim_check_must_hold_the_snapshot_its_name_says(snapshot):
    other = "edge/SPY/2026-11-24/2026-11-24T17:00:01.000Z-8"
    with pytest.raises(MessageError, match="holds SPY:2026-11-24:2026-11-24T17:00:00.000Z, not the snapshot"):
        decode(ref(blob=other), lambda c, b, limit: encode_compact(snapshot.to_json()).encode())


def test_a_gzip_bomb_costs_at_most_the_bound():
    import base64
    import tracemalloc
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(packer.compress(b" " * (1 << 20)) for _ in range(256)) + packer.flush()  # 256 MiB of spaces
    assert len(bomb) < 300_000
    tracemalloc.start()
    with pytest.raises(MessageError, match="larger than 8,388,608 bytes when decompressed"):
        decode(b"gz:" + base64.b64encode(bomb))
    with pytest.raises(MessageError, match="gzip bomb"):
        decode(ref(), lambda c, b, limit: b"gz:" + base64.b64encode(bomb))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * MAX_SNAPSHOT_BYTES  # the bound, a copy, and the input: never the 256 MiB
    assert gunzip(base64.b64encode(gzip.compress(b"x" * 1000)), limit=1000) == b"x" * 1000
    with pytest.raises(MessageError, match="larger than 999 bytes"):
        gunzip(base64.b64encode(gzip.compress(b"x" * 1000)), limit=999)


def test_a_claim_check_blob_above_the_limit_is_refused(snapshot):
    with pytest.raises(MessageError, match="is larger than"):
        decode(ref(), lambda c, b, limit: b" " * (limit + 1))


@pytest.mark.parametrize(("text", "error", "match"), [
    ("", MessageError, "empty"),
    ("gz:not-base64!", MessageError, "not base64 gzip"),
    ("gz:" + base64.b64encode(b"plain").decode(), MessageError, "not base64 gzip"),
    ('{"schema":"claim-check/1","container":"c"}', MessageError, "bad claim-check"),
    ("gz:" + base64.b64encode(gzip.compress(b"{}", mtime=0)[:-4]).decode(), MessageError, "cut short"),
    ('{"schema":"chain-snapshot/1"}', SnapshotError, "underlying: Field required"),
    ("not json", SnapshotError, "Invalid JSON"),
])
def test_malformed_messages_say_why(text, error, match):
    with pytest.raises(error, match=match):
        decode(text, lambda c, b: b"")


def test_legacy_held_envelopes_still_unwrap(snapshot):
    since = datetime(2026, 11, 24, 15, 0, 1, 500000, tzinfo=timezone.utc)
    text = encode_compact(snapshot.to_json())
    envelope = orjson.dumps({"schema": "held/1", "since": "2026-11-24T15:00:01.500Z", "message": text}).decode()
    inner, held = unwrap_held(envelope)
    assert inner == text and held == since
    assert unwrap_held(text) == (text, None)
    with pytest.raises(MessageError, match="bad held envelope"):
        unwrap_held('{"schema":"held/1","message":1}')


def test_wake_messages_name_a_chain_and_are_tiny():
    text = wake_message("BRK.B", "2026-11-24")
    assert len(text) < 100 and wake_of(text).underlying == "BRK.B" and wake_of('{"schema":"chain-snapshot/1"}') is None
    for bad in ('{"schema":"chain-wake/1","underlying":"x y","expiry":"2026-11-24"}',
                '{"schema":"chain-wake/1","underlying":"SPY","expiry":"24/11"}', '{"schema":"chain-wake/1"}'):
        with pytest.raises(MessageError, match="bad chain-wake/1"):
            wake_of(bad)
    with pytest.raises(MessageError, match="carries no snapshot"):
        decode(text)


def test_compact_form_is_plain_gzip_for_other_producers(snapshot):
    import base64

    compact = encode_compact(snapshot.to_json())
    assert gzip.decompress(base64.b64decode(compact[3:])) == snapshot.to_json()
