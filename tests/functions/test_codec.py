import gzip
from datetime import datetime, timezone

import orjson
import pytest

from functions.codec import (QUEUE_LIMIT, MessageError, SnapshotError, decode, encode_compact, hold_envelope,
                             unwrap_held)
from tests.spyglass.chainkit import T0, ChainKit


@pytest.fixture
def snapshot():
    return ChainKit(width=60).snapshot(T0)


def test_public_json_and_compact_decode_to_the_same_snapshot(snapshot):
    raw = snapshot.to_json()
    compact = encode_compact(raw)
    assert len(raw) > 20_000 and len(compact) < QUEUE_LIMIT // 3
    assert decode(raw).to_json() == decode(compact).to_json() == raw


def test_claim_check_fetches_the_blob(snapshot):
    store = {("claims", "SPY/1.json.gz"): encode_compact(snapshot.to_json()).encode()}
    ref = orjson.dumps({"schema": "claim-check/1", "container": "claims", "blob": "SPY/1.json.gz"})
    assert decode(ref, lambda c, b: store[(c, b)]).to_json() == snapshot.to_json()
    with pytest.raises(MessageError, match="no blob access"):
        decode(ref)


@pytest.mark.parametrize(("text", "error", "match"), [
    ("", MessageError, "empty"),
    ("gz:not-base64!", MessageError, "not base64 gzip"),
    ("gz:" + __import__("base64").b64encode(b"plain").decode(), MessageError, "not base64 gzip"),
    ('{"schema":"claim-check/1","container":"c"}', MessageError, "bad claim-check"),
    ('{"schema":"chain-snapshot/1"}', SnapshotError, "underlying: Field required"),
    ("not json", SnapshotError, "Invalid JSON"),
])
def test_malformed_messages_say_why(text, error, match):
    with pytest.raises(error, match=match):
        decode(text, lambda c, b: b"")


def test_held_envelope_round_trip(snapshot):
    since = datetime(2026, 11, 24, 15, 0, 1, 500000, tzinfo=timezone.utc)
    text = encode_compact(snapshot.to_json())
    inner, held = unwrap_held(hold_envelope(text, since))
    assert inner == text and held == since
    assert unwrap_held(text) == (text, None)
    with pytest.raises(MessageError, match="bad held envelope"):
        unwrap_held('{"schema":"held/1","message":1}')


def test_compact_form_is_plain_gzip_for_other_producers(snapshot):
    import base64

    compact = encode_compact(snapshot.to_json())
    assert gzip.decompress(base64.b64decode(compact[3:])) == snapshot.to_json()
