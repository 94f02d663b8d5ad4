"""The snapshot queue message: its formats, its queue, and the limits that keep a hostile message cheap.

The Functions queue trigger hands us the message text (base64 already removed
by the host, the default ``messageEncoding``). Accepted:

- the public JSON snapshot (``chain-snapshot/1``), as anyone may enqueue it;
- the edge's compact form ``gz:<base64 of gzip(JSON)>``: a 242-contract
  snapshot is ~30 KB of JSON and ~6 KB compressed, well inside the 64 KiB limit;
- a claim-check ``{"schema": "claim-check/1", "container": ..., "blob": ...}``
  when even the compressed snapshot is too large; the blob holds either form.
  Only the configured container is read, only names the edge publisher writes
  (``edge/<underlying>/<expiry>/<ts>[-<seq>]``), at most ``MAX_BLOB_BYTES``, and
  the snapshot inside must be the one the name says;
- ``chain-wake/1`` ``{"underlying", "expiry"}``: the app's own reminder to look at
  a chain again (a gap's deadline, a drain handed on); tiny, never a snapshot;
- ``held/1``: envelopes an earlier version re-enqueued; unwrapped and handled as
  the snapshot inside.

Decompression is streamed and stops at ``MAX_SNAPSHOT_BYTES``, so a gzip bomb
costs at most that much memory before it is refused.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import orjson

from spyglass.contract import Snapshot, SnapshotError, iso_ms, parse_iso

SNAPSHOT_QUEUE = "chain-snapshots"  # fixed: the edge, the trigger and the infrastructure all name it
POISON_QUEUE = SNAPSHOT_QUEUE + "-poison"  # where the host moves a message that failed maxDequeueCount times
COMPACT_PREFIX = "gz:"
CLAIM_CHECK = "claim-check/1"
WAKE = "chain-wake/1"
HELD = "held/1"  # legacy: a message re-enqueued while an earlier snapshot of its chain was in flight
QUEUE_LIMIT = 64 * 1024  # bytes of message text, after base64
# 5,000 contracts with every field are ~1.3 MB of JSON; room for producers' extra fields, no more.
MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024
MAX_BLOB_BYTES = MAX_SNAPSHOT_BYTES
DEFAULT_CLAIM_CONTAINER = "claim-checks"
# the claim-check blob names claim_name writes: the snapshot key, then its seq
CLAIM_NAME = re.compile(r"edge/([A-Z][A-Z0-9.]{0,9})/(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"
                        r"(?:-\d{1,19})?")
_UNDERLYING = re.compile(r"[A-Z][A-Z0-9.]{0,9}")

FetchBlob = Callable[[str, str, int], bytes]  # (container, name, at most this many bytes) -> the blob


class MessageError(ValueError):
    """A queue message that can never be processed; the text says why (it ends in the poison queue)."""


@dataclass(frozen=True, slots=True)
class Wake:
    """Look at this chain again: apply what is parked, declare a gap whose deadline has passed."""

    underlying: str
    expiry: str


def encode_compact(snapshot_json: bytes) -> str:
    return COMPACT_PREFIX + base64.b64encode(gzip.compress(snapshot_json, mtime=0)).decode()


def claim_name(key: str, seq: int | None) -> str:
    """The claim-check blob of snapshot ``key`` (``SPY:2026-11-24:<ts>``): deterministic, so a retried
    upload overwrites the same blob instead of leaving orphans."""
    return "edge/" + key.replace(":", "/", 2) + ("" if seq is None else f"-{seq}")


def claim_reference(container: str, name: str) -> str:
    """The queue message that stands for a snapshot stored in blob ``container/name``."""
    return orjson.dumps({"schema": CLAIM_CHECK, "container": container, "blob": name}).decode()


def wake_message(underlying: str, expiry: str) -> str:
    return orjson.dumps({"schema": WAKE, "underlying": underlying, "expiry": expiry}).decode()


def unwrap_held(text: str) -> tuple[str, datetime | None]:
    """(the original message text, when holding began) for a legacy held envelope; (text, None) otherwise."""
    if text.startswith('{"schema":"' + HELD + '"'):
        try:
            d = orjson.loads(text)
            return str(d["message"]), parse_iso(d["since"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise MessageError(f"bad held envelope: {exc}") from None
    return text, None


def wake_of(text: str) -> Wake | None:
    """The chain a ``chain-wake/1`` message names, or None for any other message."""
    if not text.startswith('{"schema":"' + WAKE + '"'):
        return None
    try:
        d = orjson.loads(text)
        wake = Wake(str(d["underlying"]), str(d["expiry"]))
        date.fromisoformat(wake.expiry)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise MessageError(f"bad {WAKE} message: {exc}") from None
    if not _UNDERLYING.fullmatch(wake.underlying):
        raise MessageError(f"bad {WAKE} message: underlying {wake.underlying!r}")
    return wake


def decode(text: str | bytes, fetch_blob: FetchBlob | None = None,
           claim_container: str = DEFAULT_CLAIM_CONTAINER) -> Snapshot:
    """Message text to a validated Snapshot; MessageError/SnapshotError say what is wrong."""
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.strip()
    if raw.startswith(COMPACT_PREFIX.encode()):
        raw = gunzip(raw[len(COMPACT_PREFIX):])
    elif raw.startswith(b"{") and b'"' + CLAIM_CHECK.encode() + b'"' in raw[:200]:
        return _claimed(raw, fetch_blob, claim_container)
    elif raw.startswith(b'{"schema":"' + WAKE.encode() + b'"'):
        raise MessageError(f"a {WAKE} message names a chain, it carries no snapshot")
    if not raw:
        raise MessageError("empty message")
    return Snapshot.from_json(raw)


def gunzip(b64: bytes, limit: int = MAX_SNAPSHOT_BYTES) -> bytes:
    """base64 of gzip -> bytes, streamed: refuses (MessageError) past ``limit`` bytes of output."""
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MessageError(f"compact snapshot is not base64 gzip: {exc}") from None
    out = bytearray()
    while data:  # one gzip member after another, as gzip.decompress reads them
        d = zlib.decompressobj(wbits=31)
        try:
            out += d.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise MessageError(f"compact snapshot is not base64 gzip: {exc}") from None
        if len(out) > limit or (d.unconsumed_tail and not d.eof):
            raise MessageError(f"snapshot is larger than {limit:,} bytes when decompressed (a gzip bomb?); "
                               f"refused after {limit:,} bytes")
        if not d.eof:
            raise MessageError("compact snapshot is not base64 gzip: the gzip stream is cut short")
        data = d.unused_data
    return bytes(out)


def _claimed(raw: bytes, fetch_blob: FetchBlob | None, container: str) -> Snapshot:
    try:
        ref = orjson.loads(raw)
        where, name = str(ref["container"]), str(ref["blob"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise MessageError(f"bad claim-check reference: {exc}") from None
    if where != container:
        raise MessageError(f"claim-check container {where!r} is not the configured claim-check container "
                           f"{container!r}; only that one is read")
    named = CLAIM_NAME.fullmatch(name)
    if named is None:
        raise MessageError(f"claim-check blob name {name[:120]!r} is not one the edge publisher writes "
                           "(edge/<underlying>/<expiry>/<ts>[-<seq>])")
    if fetch_blob is None:
        raise MessageError("claim-check message, but this reader was given no blob access")
    body = fetch_blob(where, name, MAX_BLOB_BYTES)
    if len(body) > MAX_BLOB_BYTES:
        raise MessageError(f"claim-check blob {name} is larger than {MAX_BLOB_BYTES:,} bytes")
    body = body.strip()
    if body.startswith(COMPACT_PREFIX.encode()):
        body = gunzip(body[len(COMPACT_PREFIX):])
    snapshot = Snapshot.from_json(body)
    if (snapshot.underlying, snapshot.expiry.isoformat(), iso_ms(snapshot.ts)) != named.groups():
        raise MessageError(f"claim-check blob {name} holds {snapshot.key}, not the snapshot its name says")
    return snapshot


__all__ = ["CLAIM_CHECK", "CLAIM_NAME", "DEFAULT_CLAIM_CONTAINER", "MAX_BLOB_BYTES", "MAX_SNAPSHOT_BYTES",
           "POISON_QUEUE", "QUEUE_LIMIT", "SNAPSHOT_QUEUE", "MessageError", "SnapshotError", "Wake", "claim_name",
           "claim_reference", "decode", "encode_compact", "gunzip", "unwrap_held", "wake_message", "wake_of"]
