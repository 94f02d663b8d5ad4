"""Catch-up after a (re)connect: fetch ``GET /api/signals?since=`` from just before the last handled signal.

SignalR delivers at most once and drops what arrives while disconnected; the
signals table keeps everything. Starting ``max(OVERLAP, TTL)`` before the mark
covers signals stored out of order or late by concurrent hosts: a signal
stamped earlier than that is older than the TTL when we see it, so missing it
would change no decision. The ledger's dedupe makes the overlap harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from spyglass.contract import iso_ms, parse_iso

OVERLAP = timedelta(seconds=60)
MAX_LOOKBACK = timedelta(hours=6)
PAGE = 500


class CatchupError(RuntimeError):
    pass


def since_for(mark: datetime | None, now: datetime, ttl_seconds: float) -> datetime:
    """Where to start: just before the mark; with no mark, one TTL back (older signals are stale anyway)."""
    ttl = timedelta(seconds=ttl_seconds)
    start = now - ttl if mark is None else mark - max(OVERLAP, ttl)
    return min(max(start, now - MAX_LOOKBACK), now)


def key_header(function_key: str) -> dict[str, str]:
    """The function key header, or none when the API is reached through the Static Web App."""
    return {"x-functions-key": function_key} if function_key else {}


async def fetch_since(http: httpx.AsyncClient, api: str, function_key: str, since: datetime,
                      underlying: str, page: int = PAGE) -> list[dict[str, Any]]:
    """Every stored signal after ``since``, oldest first, following pages by time."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        r = await http.get(f"{api}/signals", params={"since": iso_ms(since), "underlying": underlying,
                                                     "limit": str(page)},
                           headers=key_header(function_key))
        if r.status_code != 200:
            raise CatchupError(f"GET /signals answered {r.status_code}: {r.text[:200]}")
        items = r.json().get("items", [])
        fresh = [i for i in items if i.get("id") not in seen]
        for i in fresh:
            seen.add(i.get("id"))
        out += fresh
        if len(items) < page or not fresh:
            return out
        since = parse_iso(str(items[-1]["ts"]))
