"""Queue message formats for snapshots.

The Functions queue trigger hands us the message text (base64 already removed
by the host, the default ``messageEncoding``). Three forms are accepted:

- the public JSON snapshot (``chain-snapshot/1``), as anyone may enqueue it;
- the edge's compact form ``gz:<base64 of gzip(JSON)>``: a 242-contract
  snapshot is ~30 KB of JSON and ~6 KB compressed, well inside the 64 KiB limit;
- a claim-check ``{"schema": "claim-check/1", "container": ..., "blob": ...}``
  when even the compressed snapshot is too large; the blob holds either form.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Callable

from datetime import datetime

import orjson

from spyglass.contract import Snapshot, SnapshotError, iso_ms, parse_iso

COMPACT_PREFIX = "gz:"
CLAIM_CHECK = "claim-check/1"
HELD = "held/1"  # a message re-enqueued while an earlier snapshot of its chain is in flight
QUEUE_LIMIT = 64 * 1024  # bytes of message text, after base64


class MessageError(ValueError):
    """A queue message that can never be processed; the text says why (it ends in the poison queue)."""


def encode_compact(snapshot_json: bytes) -> str:
    return COMPACT_PREFIX + base64.b64encode(gzip.compress(snapshot_json, mtime=0)).decode()


def hold_envelope(text: str, since: datetime) -> str:
    return orjson.dumps({"schema": HELD, "since": iso_ms(since), "message": text}).decode()


def unwrap_held(text: str) -> tuple[str, datetime | None]:
    """(the original message text, when holding began) for a held envelope; (text, None) otherwise."""
    if text.startswith('{"schema":"' + HELD + '"'):
        try:
            d = orjson.loads(text)
            return str(d["message"]), parse_iso(d["since"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise MessageError(f"bad held envelope: {exc}") from None
    return text, None


def decode(text: str | bytes, fetch_blob: Callable[[str, str], bytes] | None = None) -> Snapshot:
    """Message text to a validated Snapshot; MessageError/SnapshotError say what is wrong."""
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.strip()
    if raw.startswith(COMPACT_PREFIX.encode()):
        raw = _gunzip(raw[len(COMPACT_PREFIX):])
    elif raw.startswith(b"{") and b'"' + CLAIM_CHECK.encode() + b'"' in raw[:200]:
        raw = _claimed(raw, fetch_blob)
    if not raw:
        raise MessageError("empty message")
    return Snapshot.from_json(raw)


def _gunzip(b64: bytes) -> bytes:
    try:
        return gzip.decompress(base64.b64decode(b64, validate=True))
    except (binascii.Error, OSError, EOFError, zlib.error) as exc:
        raise MessageError(f"compact snapshot is not base64 gzip: {exc}") from None


def _claimed(raw: bytes, fetch_blob: Callable[[str, str], bytes] | None) -> bytes:
    try:
        ref = orjson.loads(raw)
        container, blob = str(ref["container"]), str(ref["blob"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise MessageError(f"bad claim-check reference: {exc}") from None
    if fetch_blob is None:
        raise MessageError("claim-check message but no blob access configured")
    body = fetch_blob(container, blob).strip()
    return _gunzip(body[len(COMPACT_PREFIX):]) if body.startswith(COMPACT_PREFIX.encode()) else body


__all__ = ["MessageError", "SnapshotError", "decode", "encode_compact", "hold_envelope", "unwrap_held",
           "QUEUE_LIMIT", "CLAIM_CHECK"]
