"""Inspect and replay the poison queue: what failed, why, and putting it back once fixed.

The reason a message failed is re-derived by decoding it again with the same
codec the trigger uses, so ``list`` says "invalid chain-snapshot/1: ts: ..."
rather than only "failed 3 times".
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from functions import codec
from functions.settings import SNAPSHOT_QUEUE

POISON_QUEUE = f"{SNAPSHOT_QUEUE}-poison"


@dataclass(frozen=True, slots=True)
class PoisonMessage:
    id: str
    inserted: datetime | None
    dequeue_count: int | None
    text: str
    reason: str


def _text(content: str) -> str:
    try:
        return base64.b64decode(content, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return content  # written without base64 (messageEncoding none)


def _reason(text: str) -> str:
    try:
        inner, _ = codec.unwrap_held(text)
        codec.decode(inner)
    except (codec.MessageError, codec.SnapshotError) as exc:
        return str(exc)
    return "decodes now: failed for another reason (see the function logs)"


def _client(conn: str, name: str) -> QueueClient:
    return QueueClient.from_connection_string(conn, name, message_encode_policy=TextBase64EncodePolicy())


def peek(conn: str, limit: int = 32) -> list[PoisonMessage]:
    out = []
    for m in _client(conn, POISON_QUEUE).peek_messages(max_messages=min(limit, 32)):
        text = _text(m.content)
        out.append(PoisonMessage(m.id, m.inserted_on, m.dequeue_count, text, _reason(text)))
    return out


def replay(conn: str, ids: set[str] | None = None, limit: int = 1000) -> int:
    """Move messages (all, or those with ``ids``) back to the snapshot queue; returns how many."""
    poison, target = _client(conn, POISON_QUEUE), _client(conn, SNAPSHOT_QUEUE)
    try:
        target.create_queue()
    except ResourceExistsError:
        pass
    moved = seen = 0
    while seen < limit:
        batch = list(poison.receive_messages(max_messages=32, visibility_timeout=30))
        if not batch:
            break
        for m in batch:
            seen += 1
            if ids is None or m.id in ids:
                target.send_message(_text(m.content))
                poison.delete_message(m)
                moved += 1
            else:
                poison.update_message(m, visibility_timeout=0)  # not ours to move: visible again at once
        if ids is not None and moved == len(ids):
            break
    return moved
