"""A rule's raw result, before the lifecycle decides whether it is new, continuing or quiet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    type: str
    right: str | None
    strike: float | None
    score: float
    severity: str
    rule: str
    summary: str
    edge: float | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    facets: tuple[Finding, ...] = ()  # the other faces of the same event on this contract (detect/incidents.py)

    @property
    def key(self) -> str:
        """What makes two findings in a row one condition: type and contract, and their direction where they
        have one (rich or cheap, up or down), so a flip to the other side is a new event."""
        k = "" if self.strike is None else f"{self.strike:g}"
        direction = self.numbers.get("direction_key", "")
        return f"{self.type}|{self.right or ''}|{k}|{direction}"


def contract_label(is_call: bool, strike: float) -> str:
    return f"{'C' if is_call else 'P'} {strike:g}"


def severity_from(value: float, medium: float, high: float) -> str:
    if value >= high:
        return "high"
    if value >= medium:
        return "medium"
    return "low"


def money(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


def r4(x: float) -> float | None:
    """Round for evidence; NaN becomes null on the wire."""
    return None if x != x else round(float(x), 4)
