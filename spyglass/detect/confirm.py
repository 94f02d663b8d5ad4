"""Small edges must hold: a tradeable finding within twice its minimum edge is reported from its second snapshot.

Near the close, and wherever few quotes carry the smile, a fitted fair value
wobbles by a tick or two from one snapshot to the next; an edge that small is
indistinguishable from that wobble in one snapshot and distinguishable in two.
So a mispricing, parity or arbitrage finding whose edge after fees is below
``CONFIRM_MULTIPLE`` times its rule's minimum is held back until the same
condition (type, contract, direction: the lifecycle key) shows again in the
next snapshot. Larger edges are reported at once. The keys held back are kept
in the chain's state, so this holds across instances.
"""

from __future__ import annotations

from spyglass.config import DetectorConfig
from spyglass.detect.finding import Finding

CONFIRM_MULTIPLE = 2.0


def small(f: Finding, cfg: DetectorConfig) -> bool:
    """Within ``CONFIRM_MULTIPLE`` of the rule's own minimum, measured as the rule measures it: mispricing and
    parity after fees, arbitrage by its credit before fees."""
    if f.strike is None or f.edge is None:
        return False
    if f.type == "arbitrage":
        return f.edge < CONFIRM_MULTIPLE * cfg.arbitrage_min_edge
    least = {"mispricing": cfg.mispricing_min_edge, "parity": cfg.parity_min_edge}.get(f.type)
    after = f.numbers.get("edge_after_fees")
    return least is not None and after is not None and after < CONFIRM_MULTIPLE * least


def hold(findings: list[Finding], pending: list[str], cfg: DetectorConfig) -> tuple[list[Finding], list[str]]:
    """(findings to report now, keys held back for the next snapshot)."""
    seen = set(pending)
    out, held = [], []
    for f in findings:
        if small(f, cfg) and f.key not in seen:
            held.append(f.key)
        else:
            out.append(f)
    return out, held
