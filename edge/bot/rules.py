"""One rule per signal type, each giving a defined-risk combo or a reasoned skip. Pure functions.

Rules (see edge/README.md, "Bot"):
- ``mispricing`` cheap (ask below fair): debit vertical. Buy the flagged option,
  sell the next strike ``wing_width`` further out of the money. Limit = ask of
  the flagged leg minus bid of the wing; risk = the debit.
- ``mispricing`` rich (bid above fair): credit vertical. Sell the flagged
  option, buy the wing further out of the money. Limit = credit (bid minus wing
  ask); risk = width minus credit.
  Both re-check the edge with the legs' quotes at decision time: flagged-leg
  edge against ``fair`` minus the wing's half-spread minus fees must still be
  at least ``min_edge``, else "edge gone".
- ``arbitrage``: the structure the detector named, at a limit that receives at
  least the credit it measured: ``vertical`` (buy the dearer strike, sell the
  cheaper: a long vertical for a credit), ``vertical_bound`` (sell the vertical
  above its maximum value), ``butterfly`` (buy the wings, sell two bodies;
  equal widths only).
- ``parity``: not traded. Capturing it needs a synthetic (an uncovered short
  option) or 100 shares per contract; the signal carries no second strike to
  build a box from. Skipped with that reason, so its risk is zero.

An incident (one event seen as several types on one contract) is traded by its primary type
alone: its facets (a mispricing's parity break and butterfly, say) describe the same event and
add no second order. A chain-level finding (no strike: the smile moved, a block of lines froze)
names no contract to trade and is always skipped.

Every plan passes ``covered``: per right, the bought ratio is at least the
sold ratio, so no short option is ever naked, and ``max_loss`` is finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from spyglass.contract import Anomaly

FEE_PER_CONTRACT = 0.65
MULTIPLIER = 100.0


@dataclass(frozen=True)
class Quote:
    bid: float | None
    ask: float | None

    @property
    def two_sided(self) -> bool:
        return bool(self.bid and self.ask and 0 < self.bid <= self.ask)


QuoteFn = Callable[[str, float], "Quote | None"]


@dataclass(frozen=True)
class Leg:
    right: str  # "C" or "P"
    strike: float
    ratio: int  # per combo unit: +n bought, -n sold


@dataclass(frozen=True)
class Plan:
    signal_id: str
    rule: str
    structure: str
    legs: tuple[Leg, ...]
    limit: float  # net price per share of one combo unit: positive pays (debit), negative receives (credit)
    max_loss: float  # dollars per combo unit at expiry, fees included
    edge: float  # expected dollars per combo unit after fees, from the quotes used

    def to_dict(self) -> dict:
        return {"rule": self.rule, "structure": self.structure, "limit": self.limit,
                "max_loss": round(self.max_loss, 2), "edge": round(self.edge, 2),
                "legs": [{"right": g.right, "strike": g.strike, "ratio": g.ratio} for g in self.legs]}


@dataclass(frozen=True)
class Skip:
    reason: str


def floor_cent(x: float) -> float:
    """Round a limit towards the better price for us (less debit, more credit)."""
    return math.floor(round(x * 100, 6)) / 100  # round first: 0.58 * 100 is 57.99999999999999


def covered(legs: Sequence[Leg]) -> bool:
    """No naked short: for each right, contracts bought >= contracts sold."""
    return all(sum(g.ratio for g in legs if g.right == r) >= 0 for r in ("C", "P"))


def payoff(legs: Sequence[Leg], spot: float) -> float:
    """Value per share of one combo unit at expiry."""
    return sum(g.ratio * (max(spot - g.strike, 0.0) if g.right == "C" else max(g.strike - spot, 0.0))
               for g in legs)


def max_loss(legs: Sequence[Leg], limit: float) -> float:
    """Worst loss per combo unit in dollars: price paid minus the lowest payoff, plus fees.

    The payoff is piecewise linear with kinks at the strikes; with ``covered``
    legs its slope beyond the highest strike is >= 0, so the minimum is at 0
    or at a strike.
    """
    if not covered(legs):
        return math.inf
    points = [0.0, *(g.strike for g in legs)]
    worst = min(payoff(legs, s) for s in points)
    return (limit - worst) * MULTIPLIER + fees(legs)


def fees(legs: Sequence[Leg]) -> float:
    return FEE_PER_CONTRACT * sum(abs(g.ratio) for g in legs)


def quotes_needed(signal: Anomaly, wing_width: float) -> list[tuple[str, float]]:
    """The (right, strike) quotes a rule re-checks before deciding: the broker fetches them first."""
    if signal.strike is None:
        return []
    if signal.type == "mispricing" and signal.right in ("C", "P"):
        k = float(signal.strike)
        return [(signal.right, k), (signal.right, k + wing_width if signal.right == "C" else k - wing_width)]
    if signal.type == "arbitrage":
        try:
            return [_label(x) for x in signal.evidence.get("legs") or ()]
        except ValueError:
            return []
    return []


def plan(signal: Anomaly, quote: QuoteFn, wing_width: float, min_edge: float) -> Plan | Skip:
    """The order one signal calls for (by its primary type), or why not."""
    if signal.strike is None:
        return Skip(f"chain-level {signal.type} (no contract: {signal.evidence.get('rule', 'a chain event')}) "
                    "is never traded")
    if signal.type == "mispricing":
        return _mispricing(signal, quote, wing_width, min_edge)
    if signal.type == "arbitrage":
        return _arbitrage(signal, quote)
    if signal.type == "parity":
        return Skip("parity is not traded: capturing it needs an uncovered short option or 100 shares "
                    "per contract, and the signal carries no second strike for a box")
    return Skip(f"no rule for signal type {signal.type!r}")


def _mispricing(s: Anomaly, quote: QuoteFn, width: float, min_edge: float) -> Plan | Skip:
    ev = s.evidence
    side, fair = ev.get("side"), ev.get("fair")
    if s.right not in ("C", "P") or s.strike is None or side not in ("cheap", "rich") or not _num(fair):
        return Skip("mispricing signal lacks right, strike, side or fair")
    k = float(s.strike)
    w = k + width if s.right == "C" else k - width  # further out of the money
    if w <= 0:
        return Skip(f"no wing strike {width:g} points out of the money")
    flagged = quote(s.right, k) or Quote(ev.get("bid"), ev.get("ask"))
    wing = quote(s.right, w)
    if wing is None or not wing.two_sided:
        return Skip(f"wing {s.right} {w:g} has no two-sided quote")
    half_w = (wing.ask - wing.bid) / 2
    if side == "cheap":
        if not (_num(flagged.ask) and flagged.ask > 0):
            return Skip("flagged option has no ask")
        legs = (Leg(s.right, k, 1), Leg(s.right, w, -1))
        limit = floor_cent(flagged.ask - wing.bid)
        per_share = (fair - flagged.ask) - half_w
        structure = "debit_vertical"
    else:
        if not (_num(flagged.bid) and flagged.bid > 0):
            return Skip("flagged option has no bid")
        legs = (Leg(s.right, k, -1), Leg(s.right, w, 1))
        limit = floor_cent(wing.ask - flagged.bid)  # negative: a credit
        per_share = (flagged.bid - fair) - half_w
        structure = "credit_vertical"
    edge = per_share * MULTIPLIER - fees(legs)
    if edge < min_edge:
        return Skip(f"edge gone: {edge:.2f} $/contract after the wing's half-spread and fees < {min_edge:.2f}")
    return Plan(s.id, f"mispricing.{side}", structure, legs, limit, max_loss(legs, limit), edge)


def _arbitrage(s: Anomaly, quote: QuoteFn) -> Plan | Skip:
    ev = s.evidence
    kind, labels, credit = ev.get("kind"), ev.get("legs"), ev.get("credit")
    try:
        parsed = [_label(x) for x in labels or ()]
    except ValueError as exc:
        return Skip(f"arbitrage legs unreadable: {exc}")
    if not _num(credit) or credit <= 0:
        return Skip("arbitrage signal lacks a positive credit")
    # the detector's credit is per share; the combo's net price follows from its definition
    if kind == "vertical" and len(parsed) == 2:  # credit = cheap bid - dear ask
        (r, dear), (_, cheap) = parsed
        legs, net = (Leg(r, dear, 1), Leg(r, cheap, -1)), -float(credit)
    elif kind == "vertical_bound" and len(parsed) == 2:  # credit = vertical bid - DF x width (DF ~ 1 on 0DTE)
        (r, dear), (_, cheap) = parsed
        legs, net = (Leg(r, dear, -1), Leg(r, cheap, 1)), -(float(credit) + abs(cheap - dear))
    elif kind == "butterfly" and len(parsed) == 3:  # credit = body bid - mean wing ask, per body
        (r, k1), (_, k2), (_, k3) = parsed
        if not math.isclose(k2 - k1, k3 - k2):
            return Skip("butterfly with unequal wings: its weights are not whole contracts")
        legs, net = (Leg(r, k1, 1), Leg(r, k2, -2), Leg(r, k3, 1)), -2 * float(credit)
    else:
        return Skip(f"arbitrage kind {kind!r} with {len(parsed)} legs has no rule")
    if len({g.right for g in legs}) != 1:
        return Skip("arbitrage legs mix calls and puts")
    live = _net_price(legs, quote)
    limit = round(net, 2)
    if live is not None and live > limit:
        return Skip(f"credit gone: the legs now cost {live:.2f} net, the signal's limit is {limit:.2f}")
    loss = max_loss(legs, limit)
    edge = -loss  # an arbitrage's worst case is its edge
    return Plan(s.id, f"arbitrage.{kind}", kind, legs, limit, loss, edge)


def _net_price(legs: Sequence[Leg], quote: QuoteFn) -> float | None:
    """Net price to trade the combo at the quotes (buy at asks, sell at bids), if all are two-sided."""
    total = 0.0
    for g in legs:
        q = quote(g.right, g.strike)
        if q is None or not q.two_sided:
            return None
        total += g.ratio * (q.ask if g.ratio > 0 else q.bid)
    return total


def _label(text: str) -> tuple[str, float]:
    """``"C 600"`` -> ``("C", 600.0)`` (the detector's contract_label)."""
    right, _, strike = str(text).partition(" ")
    if right not in ("C", "P"):
        raise ValueError(f"bad leg {text!r}")
    return right, float(strike)


def _num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
