"""Public JSON contracts: ``chain-snapshot/1`` in, ``anomaly/1`` out.

Parsing is strict about structure (types, required fields, enums, positive
strikes and spot) and lenient about market values: a negative, NaN, crossed or
missing quote is data, not a malformed message, and the ``data_error`` detector
reports it. Contracts become numpy columns once, at the boundary, so the
kernels never touch Python objects.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from operator import attrgetter
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
)

SNAPSHOT_SCHEMA = "chain-snapshot/1"
ANOMALY_SCHEMA = "anomaly/1"

ANOMALY_TYPES = (
    "mispricing",
    "parity",
    "arbitrage",
    "volume_spike",
    "spread_blowout",
    "iv_jump",
    "data_error",
)
SEVERITIES = ("low", "medium", "high")

StrictNumber = Annotated[float, Strict()]
FiniteStrictNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]
StrictInt = Annotated[int, Strict()]

# Wire formats, shared word for word with docs/schemas/*.json. A date is
# YYYY-MM-DD with a year in 1900-2099; a timestamp is such a date, T, a time
# with seconds and at most nine fractional digits, and an explicit offset (Z
# preferred). Anything else, including Unix epoch numbers, is rejected rather
# than guessed at. Calendar validity (30 February) is left to pydantic.
_DATE = r"(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_DATE_RE = re.compile(_DATE)
_TS_RE = re.compile(
    _DATE + r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)


# A producer's run: seq counts within it. Letters, digits and ._:- only, so it can sit in a table key.
SESSION_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"


class SnapshotError(ValueError):
    """A message that is not a valid chain-snapshot/1; the text says which field and why."""


class _ContractModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    right: Literal["C", "P"]
    strike: FiniteStrictNumber = Field(gt=0)
    bid: StrictNumber | None = None
    ask: StrictNumber | None = None
    last: StrictNumber | None = None
    volume: StrictNumber | None = None
    open_interest: StrictNumber | None = None
    bid_size: StrictNumber | None = None
    ask_size: StrictNumber | None = None
    quote_age_ms: StrictNumber | None = Field(default=None, ge=0)


class _SnapshotModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_: Literal["chain-snapshot/1"] = Field(alias="schema")
    underlying: Annotated[str, Strict()] = Field(pattern=r"^[A-Z][A-Z0-9.]{0,9}$")
    ts: AwareDatetime
    spot: FiniteStrictNumber = Field(gt=0)
    expiry: date
    expiry_close: AwareDatetime | None = None
    rate: FiniteStrictNumber | None = Field(default=None, ge=-0.2, le=1.0)
    dividend_yield: FiniteStrictNumber | None = Field(default=None, ge=-0.2, le=1.0)
    seq: StrictInt | None = Field(default=None, ge=0)
    session: Annotated[str, Strict()] | None = Field(default=None, pattern=SESSION_PATTERN)
    source: Annotated[str, Strict()] | None = Field(default=None, max_length=64)
    delayed: Annotated[bool, Strict()] | None = None
    contracts: list[_ContractModel] = Field(max_length=5000)

    @field_validator("expiry", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        if not (isinstance(v, str) and _DATE_RE.fullmatch(v)):
            raise ValueError("expiry must be a YYYY-MM-DD string, year 1900-2099")
        return v

    @field_validator("ts", "expiry_close", mode="before")
    @classmethod
    def _iso_ts(cls, v: Any, info: Any) -> Any:
        if v is None and info.field_name == "expiry_close":
            return v
        if not (isinstance(v, str) and _TS_RE.fullmatch(v)):
            raise ValueError(
                f"{info.field_name} must be an ISO-8601 string with seconds and a UTC offset, "
                "like 2026-11-24T15:30:00.000Z"
            )
        return v

    @field_validator("seq", mode="before")
    @classmethod
    def _integral_float(cls, v: Any) -> Any:
        # JSON does not tell 5 from 5.0 and neither does JSON Schema's "integer".
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v


@dataclass(frozen=True, slots=True)
class Chain:
    """The contracts of one snapshot as columns, sorted calls-then-puts by strike.

    Missing values are NaN. ``duplicates`` counts (right, strike) pairs that
    appeared more than once; the first occurrence is kept.
    """

    is_call: np.ndarray
    strike: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    last: np.ndarray
    volume: np.ndarray
    open_interest: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    quote_age_ms: np.ndarray  # since the line's newest tick was received; NaN when the source does not say
    duplicates: tuple[tuple[str, float], ...] = ()
    nonfinite: np.ndarray | None = None  # True where bid/ask/last arrived as NaN or infinity (not null)

    def __len__(self) -> int:
        return int(self.strike.shape[0])

    @property
    def right(self) -> np.ndarray:
        return np.where(self.is_call, "C", "P")

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]] | list[_ContractModel]) -> Chain:
        def column(items: list[Any], name: str) -> list[Any]:
            if items and isinstance(items[0], dict):
                return [row.get(name) for row in items]
            return list(map(attrgetter(name), items))

        seen: set[tuple[bool, float]] = set()
        dups: list[tuple[str, float]] = []
        kept = []
        for row, right, strike in zip(rows, column(rows, "right"), column(rows, "strike")):
            key = (right == "C", math.nan if strike is None else float(strike))
            if key in seen:
                dups.append((right, key[1]))
                continue
            seen.add(key)
            kept.append(row)
        n = len(kept)
        is_call = np.array([r == "C" for r in column(kept, "right")], dtype=np.bool_).reshape(n)
        cols: dict[str, np.ndarray] = {}
        nonfinite = np.zeros(n, dtype=np.bool_)
        for name in _NUMERIC:
            raw = column(kept, name)
            cols[name] = np.array(raw, dtype=float).reshape(n)  # None -> NaN
            if name in ("bid", "ask", "last"):
                given = np.array([v is not None for v in raw], dtype=np.bool_).reshape(n)
                nonfinite |= ~np.isfinite(cols[name]) & given
        order = np.lexsort((cols["strike"], ~is_call))
        return cls(
            is_call=is_call[order],
            duplicates=tuple(dups),
            nonfinite=nonfinite[order],
            **{name: col[order] for name, col in cols.items()},
        )

    def to_rows(self) -> list[dict[str, Any]]:
        out = []
        for i in range(len(self)):
            row: dict[str, Any] = {"right": "C" if self.is_call[i] else "P"}
            for name in _NUMERIC:
                v = float(getattr(self, name)[i])
                if math.isnan(v):
                    if name not in _OPTIONAL:
                        row[name] = None
                elif name in _INTEGRAL and v.is_integer():
                    row[name] = int(v)
                else:
                    row[name] = v
            out.append(row)
        return out


_NUMERIC = ("strike", "bid", "ask", "last", "volume", "open_interest", "bid_size", "ask_size", "quote_age_ms")
_INTEGRAL = {"volume", "open_interest", "bid_size", "ask_size", "quote_age_ms"}
_OPTIONAL = {"quote_age_ms"}  # left out when unknown, so snapshots without it are unchanged


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One observation of an expiry's option chain (chain-snapshot/1)."""

    underlying: str
    ts: datetime
    spot: float
    expiry: date
    chain: Chain
    expiry_close: datetime | None = None
    rate: float | None = None
    dividend_yield: float | None = None
    seq: int | None = None
    source: str | None = None
    delayed: bool = False
    session: str | None = None  # the producer's run that numbered ``seq`` (a restart starts a new one)

    @property
    def key(self) -> str:
        """Stable identity of the snapshot for logs, dedup and storage keys."""
        return f"{self.underlying}:{self.expiry.isoformat()}:{iso_ms(self.ts)}"

    @classmethod
    def from_json(cls, raw: str | bytes) -> Snapshot:
        """Parse and validate one JSON message; raise SnapshotError with a readable reason."""
        try:
            model = _SnapshotModel.model_validate_json(raw)
        except ValidationError as exc:
            raise SnapshotError(_explain(exc)) from None
        return cls._from_model(model)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        return cls.from_json(orjson.dumps(data))

    @classmethod
    def _from_model(cls, m: _SnapshotModel) -> Snapshot:
        return cls(
            underlying=m.underlying,
            ts=m.ts.astimezone(timezone.utc),
            spot=m.spot,
            expiry=m.expiry,
            chain=Chain.from_rows(m.contracts),
            expiry_close=m.expiry_close.astimezone(timezone.utc) if m.expiry_close else None,
            rate=m.rate,
            dividend_yield=m.dividend_yield,
            seq=m.seq,
            source=m.source,
            delayed=bool(m.delayed),
            session=m.session,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SNAPSHOT_SCHEMA,
            "underlying": self.underlying,
            "ts": iso_ms(self.ts),
            "spot": self.spot,
            "expiry": self.expiry.isoformat(),
        }
        if self.expiry_close is not None:
            out["expiry_close"] = iso_ms(self.expiry_close)
        for name in ("rate", "dividend_yield", "seq", "session", "source"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        if self.delayed:
            out["delayed"] = True
        out["contracts"] = self.chain.to_rows()
        return out

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "invalid chain-snapshot/1: " + "; ".join(parts)


def iso_ms(ts: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z, the one timestamp format on the wire."""
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_iso(ts: str) -> datetime:
    """An ISO-8601 timestamp with Z or an offset, as a UTC datetime."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(timezone.utc)


def anomaly_id(underlying: str, expiry: date, ts: datetime, right: str | None, strike: float | None, type_: str) -> str:
    """Deterministic id, so that scoring the same snapshot twice yields the same rows."""
    k = "" if strike is None else f"{strike:.4f}"
    raw = f"{underlying}|{expiry.isoformat()}|{iso_ms(ts)}|{right or ''}|{k}|{type_}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One finding (anomaly/1). ``evidence`` holds the numbers that fired, in words and figures."""

    underlying: str
    expiry: date
    ts: datetime
    right: str | None
    strike: float | None
    type: str
    score: float
    severity: str
    edge: float | None
    evidence: dict[str, Any]
    data_quality: dict[str, Any]
    id: str = field(default="")
    # an incident's other faces on the same contract and snapshot (each: type, rule, score, severity, edge,
    # summary, evidence); empty for a single finding and then left out of the JSON
    facets: tuple[dict[str, Any], ...] = ()
    # what the market did next (spyglass.outcome): per horizon ("5s", "30s", "2m", "5m", "settle") its markouts,
    # filled in as the horizons pass; absent until the first one
    outcome: dict[str, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        if self.type not in ANOMALY_TYPES:
            raise ValueError(f"unknown anomaly type {self.type!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if not math.isfinite(float(self.score)):
            raise ValueError(f"score must be finite, got {self.score!r}")
        for facet in self.facets:
            if facet.get("type") not in ANOMALY_TYPES or facet.get("severity") not in SEVERITIES:
                raise ValueError(f"bad facet {facet!r}")
        if not self.id:
            object.__setattr__(
                self, "id", anomaly_id(self.underlying, self.expiry, self.ts, self.right, self.strike, self.type)
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": ANOMALY_SCHEMA,
            "id": self.id,
            "underlying": self.underlying,
            "expiry": self.expiry.isoformat(),
            "ts": iso_ms(self.ts),
            "right": self.right,
            "strike": self.strike,
            "type": self.type,
            "score": round(float(self.score), 4),
            "severity": self.severity,
            "edge": None if self.edge is None else round(float(self.edge), 2),
            "evidence": self.evidence,
            "data_quality": self.data_quality,
            **({"facets": list(self.facets)} if self.facets else {}),
            **({"outcome": self.outcome} if self.outcome else {}),
        }

    @property
    def types(self) -> tuple[str, ...]:
        """The primary type and every facet's: what this incident is evidence of."""
        return (self.type, *(f["type"] for f in self.facets))

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Anomaly:
        return cls(
            id=d["id"],
            underlying=d["underlying"],
            expiry=date.fromisoformat(d["expiry"]),
            ts=parse_iso(d["ts"]),
            right=d.get("right"),
            strike=d.get("strike"),
            type=d["type"],
            score=float(d["score"]),
            severity=d["severity"],
            edge=d.get("edge"),
            evidence=d.get("evidence") or {},
            data_quality=d.get("data_quality") or {},
            facets=tuple(d.get("facets") or ()),
            outcome=d.get("outcome") or None,
        )
