"""Incidents: the faces of one event on one contract become one alert.

A rich call is at once a mispricing (its quote is off fair), a parity break
(its pair no longer adds up), an arbitrage (a spread or butterfly with it pays)
and often an iv_jump (its vol just moved off the smile). Reported apart they
are four alerts for one thing. Findings of these types on the same contract in
the same snapshot are merged into one incident:

- the **primary** type is the first present in ``PRECEDENCE``: mispricing (the
  quote itself is off fair: the root), then arbitrage (a trade with no model
  in it), parity, iv_jump (the least specific);
- the others become its ``facets``, each with its own rule, score, severity,
  edge and evidence;
- the incident takes the highest severity of its facets; its edge and score
  are the primary's (what a trader would trade).
"""

from __future__ import annotations

from dataclasses import replace

from spyglass.contract import SEVERITIES
from spyglass.detect.finding import Finding, money

PRECEDENCE = ("mispricing", "arbitrage", "parity", "iv_jump")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_SHORT = {"mispricing": "off fair", "arbitrage": "an arbitrage", "parity": "put-call parity", "iv_jump": "an IV jump"}


def merge(findings: list[Finding]) -> list[Finding]:
    by_contract: dict[tuple[str | None, float], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        if f.type in PRECEDENCE and f.strike is not None:
            by_contract.setdefault((f.right, f.strike), []).append(f)
        else:
            out.append(f)
    for group in by_contract.values():
        out.append(group[0] if len(group) == 1 else _incident(group))
    return out


def _incident(group: list[Finding]) -> Finding:
    group = sorted(group, key=lambda f: PRECEDENCE.index(f.type))
    primary, facets = group[0], tuple(group[1:])
    severity = max((f.severity for f in group), key=_RANK.__getitem__)
    also = ", ".join(f"{_SHORT[f.type]}{f' ({money(f.edge)})' if f.edge is not None else ''}" for f in facets)
    return replace(primary, severity=severity, facets=facets, summary=f"{primary.summary}; also {also}")


def one_per_type_for_the_chain(emit: list[tuple[Finding, str, object]]) -> list[tuple[Finding, str, object]]:
    """At most one chain-level finding (no contract) per type in a snapshot: its id is made of the chain, the
    snapshot and the type, so two would collide. The most severe (the first on a tie) becomes the record; the
    others its facets, each still with its own rule and evidence."""
    out: list[tuple[Finding, str, object]] = []
    first: dict[str, int] = {}
    for item in emit:
        f = item[0]
        if f.strike is not None or f.right is not None:
            out.append(item)
            continue
        at = first.get(f.type)
        if at is None:
            first[f.type] = len(out)
            out.append(item)
            continue
        kept = out[at]
        a, b = (kept[0], f) if _RANK[kept[0].severity] >= _RANK[f.severity] else (f, kept[0])
        head = kept if a is kept[0] else item
        merged = replace(a, facets=(*a.facets, b, *b.facets), summary=f"{a.summary}; also {b.summary}")
        out[at] = (merged, *head[1:])
    return out
