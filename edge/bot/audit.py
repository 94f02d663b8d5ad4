"""Append-only audit log of every decision, one JSON object per line, flushed to disk before acting on it.

Written before the order goes out, so a crash never leaves an order without
its reason. Never rewritten or truncated; rotate it outside the bot.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from spyglass.contract import iso_ms


class AuditLog:
    def __init__(self, path: Path, mode: str) -> None:
        self.path = Path(path)
        self.mode = mode
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"ts": iso_ms(datetime.now(timezone.utc)),
                  "mode": self.mode, "event": event, **fields}
        line = orjson.dumps(record, default=str) + b"\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return record


def read(path: Path) -> list[dict[str, Any]]:
    """All records (for tests and the operator); a torn last line is ignored."""
    out = []
    for raw in Path(path).read_bytes().splitlines():
        try:
            out.append(orjson.loads(raw))
        except orjson.JSONDecodeError:
            continue
    return out
