"""Floods: one rule flagging many contracts the same way in one snapshot is one chain event.

When ``flood_contracts`` or more contracts are flagged by one rule in the same
direction at once, that is not that many separate opportunities: the market
repriced as a whole, the model lost the chain, or the feed broke. Those
findings are replaced by one chain-level finding (no contract) that names the
event and lists the contracts in its evidence:

- mispricing or iv_jump, all one way, with a fit that holds: a chain-level
  ``iv_jump`` (rule ``iv_jump.smile_shift``): the smile itself moved, faster
  than one fit follows;
- the same with a fit that does not hold (weighted RMS over 2.5 half-spreads,
  or not arbitrage-free): ``data_error`` ``fit_unstable``;
- parity, all one way: ``data_error`` ``forward`` (the forward is off, not
  the pairs);
- arbitrage: ``data_error`` ``quotes_inconsistent``;
- volume_spike / spread_blowout: one chain-wide ``volume_spike`` /
  ``spread_blowout`` (a surge or a widening across the chain);
- contract-level data errors of one subtype: one ``data_error`` of that
  subtype for the chain.
"""

from __future__ import annotations

from collections import defaultdict

from spyglass.analytics.pricing import PricedChain
from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding

MAX_LISTED = 40


def _direction(f: Finding) -> str:
    return str(f.numbers.get("subtype" if f.type == "data_error" else "direction_key", ""))


def collapse(findings: list[Finding], p: PricedChain, cfg: DetectorConfig) -> list[Finding]:
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    out: list[Finding] = []
    for f in findings:
        if f.strike is None:
            out.append(f)
        else:
            groups[(f.type, _direction(f))].append(f)
    for (type_, direction), group in groups.items():
        if len(group) >= cfg.flood_contracts:
            out.append(_chain_event(type_, direction, group, p))
        else:
            out += group
    return out


def _chain_event(type_: str, direction: str, group: list[Finding], p: PricedChain) -> Finding:
    names = [f"{f.right} {f.strike:g}" for f in sorted(group, key=lambda f: (f.right or "", f.strike or 0.0))]
    listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    fit = p.fit
    holds = fit.ok and fit.rms_half_spreads <= 2.5 and fit.arbitrage_free
    numbers = {"contracts": names[:MAX_LISTED], "count": len(group), "flooded_rule": type_,
               "direction_key": direction, "fit_rms_half_spreads": None if not fit.ok else round(fit.rms_half_spreads, 3)}
    n = len(group)
    if type_ in ("mispricing", "iv_jump") and holds:
        way = {"rich": "rich", "cheap": "cheap", "up": "up", "down": "down"}.get(direction, direction)
        what = (f"{n} lines quote {way} of the fitted smile at once" if type_ == "mispricing"
                else f"{n} lines' vols jumped {way} against the smile at once")
        numbers["event"] = "smile_shift"
        return _finding("iv_jump", f"the smile moved: {what} ({listed}); the market repriced faster than one "
                        "fit follows; one chain event, not {n} trades".replace("{n}", str(n)), "medium", numbers)
    if type_ in ("mispricing", "iv_jump"):
        numbers["subtype"] = "fit_unstable"
        return _finding("data_error", f"the smile fit does not hold: {n} lines flagged {type_} the same way "
                        f"({listed}) with fit RMS {fit.rms_half_spreads:.1f} half-spreads; none reported as trades",
                        "medium", numbers)
    if type_ == "parity":
        numbers["subtype"] = "forward"
        return _finding("data_error", f"put-call parity broken the same way ({direction}) at {n} strikes ({listed}): "
                        f"the forward {p.forward.forward:.2f} is off, not {n} pairs", "medium", numbers)
    if type_ == "arbitrage":
        numbers["subtype"] = "quotes_inconsistent"
        return _finding("data_error", f"{n} static-arbitrage violations in one snapshot ({listed}): the quotes are "
                        "inconsistent as a whole, a feed fault rather than free money", "medium", numbers)
    if type_ == "data_error":
        numbers["subtype"] = direction
        return _finding("data_error", f"{n} lines with the same data error ({direction}) at once: {listed}", "medium",
                        numbers)
    if type_ == "volume_spike":
        return _finding("volume_spike", f"chain-wide volume surge: {n} lines traded far above their usual rate at once "
                        f"({listed})", "medium", numbers)
    return _finding(type_, f"chain-wide {type_.replace('_', ' ')}: {n} lines at once ({listed})", "low", numbers)


def _finding(type_: str, summary: str, severity: str, numbers: dict) -> Finding:
    rule = "iv_jump.smile_shift" if numbers.get("event") == "smile_shift" else f"{type_}.chain_event"
    return Finding(type_, None, None, float(numbers["count"]), severity, rule, summary, numbers=numbers)
