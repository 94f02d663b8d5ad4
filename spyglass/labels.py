"""label/1: the ground truth of an injected anomaly, one JSON object per line.

::

    {"schema": "label/1", "id": "SPY-2026-11-23-0007", "type": "mispricing", "subtype": null,
     "underlying": "SPY", "expiry": "2026-11-23", "right": "C", "strike": 601.0,
     "start": "2026-11-23T15:02:11.000Z", "end": "2026-11-23T15:02:40.000Z",
     "implies": ["iv_jump", "parity"], "detail": {...}}

- ``type`` is an anomaly/1 type; ``subtype`` refines it (arbitrage: vertical /
  butterfly; data_error: crossed / negative / nan / missing_ask / out_of_order /
  stale, and from the conditions of a messy feed stale_quote / fat_finger;
  iv_jump: smile_shift, the whole smile moving at once in a gap; otherwise null).
- ``right``/``strike`` name the contract (the shifted leg for arbitrage, the
  strike for parity with ``right`` null); both null for snapshot-level errors
  and for chain-level events (iv_jump/smile_shift).
- ``start``/``end`` are the ts of the first and last snapshot the injection
  affects (inclusive). For out_of_order/stale, ``start`` is the ts the bad
  snapshot carries and ``end`` the ts of the snapshot emitted just before it.
- ``implies`` lists other types this injection legitimately also causes.
- ``detail`` holds the numbers (shifts, edges, multiples) and ``interval_s``.
  A stale_quote's ``material_from`` is the ts from which the true fair value
  lies outside its frozen quote by more than a half-spread (null: never).
  See docs/evaluation.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from spyglass.contract import ANOMALY_TYPES, iso_ms, parse_iso


LABEL_SCHEMA = "label/1"
# what the simulator's schedule can inject; the conditions of a messy feed add CONDITION_SUBTYPES
DATA_ERROR_SUBTYPES = ("crossed", "negative", "nan", "missing_ask", "out_of_order", "stale")
CONDITION_SUBTYPES = ("stale_quote", "fat_finger")
SUBTYPES = {
    "arbitrage": ("vertical", "butterfly"),
    "data_error": DATA_ERROR_SUBTYPES + CONDITION_SUBTYPES,
    "iv_jump": (None, "smile_shift"),  # smile_shift: the whole smile moved (a gap), a chain-level event
}
_REQUIRED = (
    "schema", "type", "subtype", "underlying", "expiry", "right", "strike", "start", "end", "implies", "detail",
)


def make_label(
    *,
    id: str,
    type: str,
    subtype: str | None,
    underlying: str,
    expiry: str,
    right: str | None,
    strike: float | None,
    start: datetime,
    end: datetime,
    implies: Iterable[str] = (),
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    label = {
        "schema": LABEL_SCHEMA,
        "id": id,
        "type": type,
        "subtype": subtype,
        "underlying": underlying,
        "expiry": expiry,
        "right": right,
        "strike": None if strike is None else float(strike),
        "start": iso_ms(start),
        "end": iso_ms(end),
        "implies": sorted(set(implies) - {type}),
        "detail": _plain(detail or {}),
    }
    validate_label(label)
    return label


def validate_label(label: dict[str, Any]) -> None:
    """Raise ValueError naming the first field that breaks label/1."""
    missing = [k for k in _REQUIRED if k not in label]
    if missing:
        raise ValueError(f"label/1: missing {missing}")
    if label["schema"] != LABEL_SCHEMA:
        raise ValueError(f"label/1: schema is {label['schema']!r}")
    if label["type"] not in ANOMALY_TYPES:
        raise ValueError(f"label/1: unknown type {label['type']!r}")
    sub = label["subtype"]
    allowed = SUBTYPES.get(label["type"])
    if allowed is None and sub is not None or allowed is not None and sub not in allowed:
        raise ValueError(f"label/1: bad subtype {sub!r} for {label['type']}")
    if label["right"] not in ("C", "P", None):
        raise ValueError(f"label/1: bad right {label['right']!r}")
    k = label["strike"]
    if k is not None and not (isinstance(k, float | int) and math.isfinite(k) and k > 0):
        raise ValueError(f"label/1: bad strike {k!r}")
    if parse_ts(label["start"]) > parse_ts(label["end"]):
        raise ValueError("label/1: start after end")
    bad = [t for t in label["implies"] if t not in ANOMALY_TYPES or t == label["type"]]
    if bad:
        raise ValueError(f"label/1: bad implies {bad}")
    if not isinstance(label["detail"], dict):
        raise ValueError("label/1: detail must be an object")


def parse_ts(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return parse_iso(value)


def _plain(obj: Any) -> Any:
    """numpy scalars and tuples to plain JSON values; floats rounded to 6 places."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float):
        return round(obj, 6) if math.isfinite(obj) else None
    return obj
