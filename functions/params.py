"""HTTP query parameters: validated into typed values, or a 400 with a message saying which and why.

Filters reach Table storage only as named parameters of a fixed filter
template (``@since``, ``@type`` ...): user input is never concatenated into
OData.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import orjson

from functions.keys import day_partition, time_row
from spyglass.contract import ANOMALY_TYPES, SEVERITIES

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
DEFAULT_WINDOW = timedelta(days=1)
_UNDERLYING = re.compile(r"^[A-Z][A-Z0-9.]{0,9}$")
# continuation keys are opaque to us (Azure and Azurite encode them differently); they travel as HTTP
# header values, never in OData, so what matters is no whitespace or control character (header injection)
_KEY = re.compile(r"^[\x21-\x7e]{1,1024}$")


class ParamError(ValueError):
    """A bad query parameter; the message is returned to the caller with status 400."""


def parse_time(name: str, value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(f"{name} must be an ISO-8601 timestamp with a timezone, e.g. 2026-11-24T15:30:00Z") from None
    if ts.tzinfo is None:
        raise ParamError(f"{name} must include a timezone (Z or an offset)")
    return ts.astimezone(timezone.utc)


def parse_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ParamError(f"{name} must be one of {', '.join(allowed)}")
    return value


def parse_float(name: str, value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except ValueError:
        raise ParamError(f"{name} must be a number") from None
    if not math.isfinite(x) or x < 0:
        raise ParamError(f"{name} must be a finite number >= 0")
    return x


def parse_limit(value: str | None, name: str = "limit", default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise ParamError(f"{name} must be an integer from 1 to {most}")
    return int(value)


def parse_every(value: str | None) -> int | None:
    """Seconds per point of a series: 1 (every snapshot) to 3600; None lets the data decide."""
    if value is None or value == "":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 3600:
        raise ParamError("every must be an integer number of seconds from 1 to 3600")
    return int(value)


def parse_underlying(value: str | None, default: str) -> str:
    u = (value or default).upper()
    if not _UNDERLYING.match(u):
        raise ParamError("underlying must be a ticker symbol such as SPY")
    return u


def encode_token(token: Mapping[str, str] | None) -> str | None:
    if not token:
        return None
    return base64.urlsafe_b64encode(orjson.dumps({"pk": token["PartitionKey"], "rk": token["RowKey"]})).decode()


def decode_token(value: str | None) -> dict[str, str] | None:
    if value is None or value == "":
        return None
    try:
        d = orjson.loads(base64.urlsafe_b64decode(value.encode()))
        pk, rk = d["pk"], d["rk"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ParamError("continuation is not a token this API issued") from None
    if not (isinstance(pk, str) and isinstance(rk, str) and _KEY.match(pk) and _KEY.match(rk)):
        raise ParamError("continuation is not a token this API issued")
    return {"PartitionKey": pk, "RowKey": rk}


@dataclass(frozen=True, slots=True)
class AnomalyQuery:
    underlying: str
    since: datetime
    until: datetime
    type: str | None = None
    severity: str | None = None
    right: str | None = None
    min_strike: float | None = None
    max_strike: float | None = None
    limit: int = DEFAULT_LIMIT
    continuation: dict[str, str] | None = None

    @classmethod
    def from_params(cls, p: Mapping[str, str], default_underlying: str, now: datetime) -> AnomalyQuery:
        unknown = set(p) - {"since", "until", "type", "severity", "right", "min_strike", "max_strike",
                            "underlying", "limit", "continuation", "code"}
        if unknown:
            raise ParamError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        until = parse_time("until", p.get("until")) or now
        since = parse_time("since", p.get("since")) or until - DEFAULT_WINDOW
        if since > until:
            raise ParamError("since must not be after until")
        if until - since > timedelta(days=400):
            raise ParamError("the window from since to until is limited to 400 days")
        lo, hi = parse_float("min_strike", p.get("min_strike")), parse_float("max_strike", p.get("max_strike"))
        if lo is not None and hi is not None and lo > hi:
            raise ParamError("min_strike must not exceed max_strike")
        return cls(
            underlying=parse_underlying(p.get("underlying"), default_underlying),
            since=since, until=until,
            type=parse_choice("type", p.get("type"), ANOMALY_TYPES),
            severity=parse_choice("severity", p.get("severity"), SEVERITIES),
            right=parse_choice("right", p.get("right"), ("C", "P")),
            min_strike=lo, max_strike=hi,
            limit=parse_limit(p.get("limit")),
            continuation=decode_token(p.get("continuation")),
        )

    def table_filter(self) -> tuple[str, dict[str, Any]]:
        """A fixed OData template and its parameters (the SDK quotes and escapes them)."""
        clauses = ["PartitionKey ge @pk_lo", "PartitionKey le @pk_hi", "RowKey ge @rk_lo", "RowKey lt @rk_hi"]
        params: dict[str, Any] = {
            "pk_lo": day_partition(self.underlying, self.since),
            "pk_hi": day_partition(self.underlying, self.until),
            "rk_lo": time_row(self.since),
            "rk_hi": time_row(self.until + timedelta(milliseconds=1)),
        }
        for name in ("type", "severity", "right"):
            value = getattr(self, name)
            if value is not None:
                clauses.append(f"{name} eq @{name}")
                params[name] = value
        if self.min_strike is not None:
            clauses.append("strike ge @min_strike")
            params["min_strike"] = self.min_strike
        if self.max_strike is not None:
            clauses.append("strike le @max_strike")
            params["max_strike"] = self.max_strike
        return " and ".join(clauses), params
