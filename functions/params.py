"""HTTP query parameters: validated into typed values, or a 400 with a message saying which and why.

Filters reach Table storage only as named parameters of a fixed filter
template (``@since``, ``@type`` ...): user input is never concatenated into
OData. The rules here are the ones the OpenAPI document states (openapi.py),
except the few between two parameters, which OpenAPI cannot state
(``ParamConflict``: since after until, a window too long, min_strike above max_strike).

Times are the contract's timestamps (docs/contracts.md: seconds, an offset, year 1900-2099), so
no date arithmetic can overflow; a parameter given empty is an error, not the default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from functions import tokens
from spyglass.contract import _DATE_RE, _TS_RE, ANOMALY_TYPES, SEVERITIES, iso_ms, parse_iso
from spyglass.wire.tables import FACET_COLUMN, day_partition, time_row

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
DEFAULT_WINDOW = timedelta(days=1)
MAX_ANOMALY_WINDOW = timedelta(days=400)  # anomalies: until - since; one page of Table storage per request
MAX_HISTORY_WINDOW = timedelta(days=1)  # chain/history: until - since
MAX_OUTCOME_WINDOW = timedelta(days=31)  # outcomes/summary: until - since (every alert in it is read)
SIGNALS_LOOKBACK = timedelta(days=7)  # signals: an older since is moved up to this (and the answer says so)
UNDERLYING_PATTERN = r"^[A-Z][A-Z0-9.]{0,9}$"
_UNDERLYING = re.compile(UNDERLYING_PATTERN)
ANOMALY_PARAMS = frozenset({"since", "until", "type", "severity", "right", "min_strike", "max_strike", "underlying",
                            "limit", "continuation", "code"})  # code: the function key, read by the host
OUTCOME_PARAMS = frozenset({"since", "until", "type", "underlying", "code"})


# A type filter matches an anomaly of that type and an incident with it as a facet: one fixed clause
# per type, chosen by the validated value, which itself still travels as the parameter @type.
_TYPE_CLAUSES = {t: f"(type eq @type or {column} eq true)" for t, column in FACET_COLUMN.items()}


class ParamError(ValueError):
    """A bad query parameter; the message is returned to the caller with status 400."""


class ParamConflict(ParamError):
    """Two parameters that are each valid but not together: a rule OpenAPI cannot state."""


def _given(name: str, value: str | None) -> str | None:
    """None when absent; an empty value is an error (the schema's patterns do not match it)."""
    if value == "":
        raise ParamError(f"{name} must not be empty (leave it out for the default)")
    return value


def parse_time(name: str, value: str | None) -> datetime | None:
    if _given(name, value) is None:
        return None
    if not _TS_RE.fullmatch(value):
        raise ParamError(f"{name} must be an ISO-8601 timestamp with seconds and an offset, year 1900-2099, "
                         "e.g. 2026-11-24T15:30:00Z")
    try:
        return parse_iso(value)
    except ValueError:
        raise ParamError(f"{name} is not a real time (check the day of the month)") from None


def parse_date(name: str, value: str | None) -> str | None:
    """A YYYY-MM-DD date, year 1900-2099, as given (it names a partition)."""
    if _given(name, value) is None:
        return None
    if not _DATE_RE.fullmatch(value):
        raise ParamError(f"{name} must be a date YYYY-MM-DD, year 1900-2099")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name} is not a real date (check the day of the month)") from None
    return value


def parse_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if _given(name, value) is None:
        return None
    if value not in allowed:
        raise ParamError(f"{name} must be one of {', '.join(allowed)}")
    return value


def parse_float(name: str, value: str | None) -> float | None:
    if _given(name, value) is None:
        return None
    try:
        x = float(value)
    except ValueError:
        raise ParamError(f"{name} must be a number") from None
    if not math.isfinite(x) or x < 0:
        raise ParamError(f"{name} must be a finite number >= 0")
    return x


def parse_int(name: str, value: str | None, default: int | None, least: int, most: int) -> int | None:
    if _given(name, value) is None:
        return default
    if not (value.isascii() and value.isdigit()) or not least <= int(value) <= most:
        raise ParamError(f"{name} must be an integer from {least} to {most}")
    return int(value)


def parse_limit(value: str | None, name: str = "limit", default: int = DEFAULT_LIMIT, most: int = MAX_LIMIT) -> int:
    return parse_int(name, value, default, 1, most)


def parse_every(value: str | None) -> int | None:
    """Seconds per point of a series: 1 (every snapshot) to 3600; None lets the data decide."""
    return parse_int("every", value, None, 1, 3600)


def parse_underlying(value: str | None, default: str) -> str:
    u = _given("underlying", value)
    if u is None:
        return default
    if not _UNDERLYING.fullmatch(u):
        raise ParamError("underlying must be a ticker symbol in capitals, such as SPY")
    return u


def window(since: datetime | None, until: datetime, default: timedelta, most: timedelta) -> datetime:
    """``since`` (default ``until - default``), checked against ``until`` and the longest window."""
    since = until - default if since is None else since
    if since > until:
        raise ParamConflict("since must not be after until")
    if until - since > most:
        raise ParamConflict(f"since and until may be at most {_span(most)} apart")
    return since


def _span(d: timedelta) -> str:
    return f"{d.days} days" if d.days > 1 else "one day" if d.days == 1 else f"{d.total_seconds() / 3600:g} hours"


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
        unknown = set(p) - ANOMALY_PARAMS
        if unknown:
            raise ParamError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        until = parse_time("until", p.get("until")) or now
        since = window(parse_time("since", p.get("since")), until, DEFAULT_WINDOW, MAX_ANOMALY_WINDOW)
        lo, hi = parse_float("min_strike", p.get("min_strike")), parse_float("max_strike", p.get("max_strike"))
        if lo is not None and hi is not None and lo > hi:
            raise ParamConflict("min_strike must not exceed max_strike")
        q = cls(
            underlying=parse_underlying(p.get("underlying"), default_underlying),
            since=since, until=until,
            type=parse_choice("type", p.get("type"), ANOMALY_TYPES),
            severity=parse_choice("severity", p.get("severity"), SEVERITIES),
            right=parse_choice("right", p.get("right"), ("C", "P")),
            min_strike=lo, max_strike=hi,
            limit=parse_limit(p.get("limit")),
        )
        token = _given("continuation", p.get("continuation"))
        return q if token is None else q._continued(token, explicit={k for k in ("since", "until") if k in p})

    def _scope(self) -> str:
        """What a continuation token is bound to besides its window: the filters, not the page size."""
        return "anomalies|" + "|".join(str(getattr(self, f)) for f in
                                       ("underlying", "type", "severity", "right", "min_strike", "max_strike"))

    def next_token(self, next_keys: Mapping[str, str] | None) -> str | None:
        """The token for the page after this one (None at the end): Table storage's next keys and the window."""
        if not next_keys:
            return None
        return tokens.sign({"pk": next_keys["PartitionKey"], "rk": next_keys["RowKey"], "since": iso_ms(self.since),
                            "until": iso_ms(self.until)}, self._scope())

    def _continued(self, token: str, explicit: set[str]) -> AnomalyQuery:
        """This query from where ``token`` stopped, in the token's window (an omitted until was "now" then)."""
        try:
            state = tokens.verify(token, self._scope())
        except tokens.TokenError as exc:
            raise ParamError(str(exc)) from None
        since, until = parse_iso(state["since"]), parse_iso(state["until"])
        for name, mine, theirs in (("since", self.since, since), ("until", self.until, until)):
            if name in explicit and iso_ms(mine) != iso_ms(theirs):
                raise ParamError(f"continuation was issued for another {name} ({state[name]})")
        return replace(self, since=since, until=until,
                       continuation={"PartitionKey": state["pk"], "RowKey": state["rk"]})

    def table_filter(self) -> tuple[str, dict[str, Any]]:
        """A fixed OData template and its parameters (the SDK quotes and escapes them)."""
        clauses = ["PartitionKey ge @pk_lo", "PartitionKey le @pk_hi", "RowKey ge @rk_lo", "RowKey lt @rk_hi"]
        params: dict[str, Any] = {
            "pk_lo": day_partition(self.underlying, self.since),
            "pk_hi": day_partition(self.underlying, self.until),
            "rk_lo": time_row(self.since),
            "rk_hi": time_row(self.until + timedelta(milliseconds=1)),
        }
        if self.type is not None:
            clauses.append(_TYPE_CLAUSES[self.type])
            params["type"] = self.type
        for name in ("severity", "right"):
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


def signals_since(value: str | None, now: datetime) -> datetime:
    """Where a signals catch-up starts: ``since`` (default an hour ago), at most ``SIGNALS_LOOKBACK`` back."""
    since = parse_time("since", value) or now - timedelta(hours=1)
    return max(since, now - SIGNALS_LOOKBACK)


@dataclass(frozen=True, slots=True)
class OutcomeQuery:
    """outcomes/summary: the alerts of one underlying in a window, optionally of one (primary) type."""

    underlying: str
    since: datetime
    until: datetime
    type: str | None = None

    @classmethod
    def from_params(cls, p: Mapping[str, str], default_underlying: str, now: datetime) -> OutcomeQuery:
        unknown = set(p) - OUTCOME_PARAMS
        if unknown:
            raise ParamError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        until = parse_time("until", p.get("until")) or now
        return cls(parse_underlying(p.get("underlying"), default_underlying),
                   window(parse_time("since", p.get("since")), until, DEFAULT_WINDOW, MAX_OUTCOME_WINDOW), until,
                   parse_choice("type", p.get("type"), ANOMALY_TYPES))

    def table_filter(self) -> tuple[str, dict[str, Any]]:
        """The window's rows (the type is the alert's primary one, matched after reading: a facet is not graded)."""
        return AnomalyQuery(self.underlying, self.since, self.until).table_filter()
