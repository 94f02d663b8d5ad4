"""Persistence: a condition that lasts is one anomaly with a lifecycle, not an alert a second.

A finding whose key (type, right, strike, direction) was active within
``forget_after_seconds`` is *continuing*; it is re-emitted only every
``continuing_every_seconds``, when its severity rises, or when the incident
shows a face (facet type) it had not shown yet. Otherwise it is *new*.
Keys not seen for ``forget_after_seconds`` are dropped (the condition ended).
"""

from __future__ import annotations

from datetime import datetime

from spyglass.config import DetectorConfig
from spyglass.contract import SEVERITIES
from spyglass.detect.finding import Finding
from spyglass.detect.state import ActiveAnomaly

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def advance(
    findings: list[Finding],
    active: dict[str, ActiveAnomaly],
    ts: datetime,
    cfg: DetectorConfig,
) -> tuple[list[tuple[Finding, str, datetime]], dict[str, ActiveAnomaly]]:
    """Return (finding, "new"|"continuing", first_seen) to emit, and the next active map."""
    emit: list[tuple[Finding, str, datetime]] = []
    nxt: dict[str, ActiveAnomaly] = {}
    for k, a in active.items():
        if (ts - a.last_seen).total_seconds() <= cfg.forget_after_seconds:
            nxt[k] = a
    for f in findings:
        prev = nxt.get(f.key)
        faces = tuple(sorted({x.type for x in f.facets}))
        if prev is None:
            nxt[f.key] = ActiveAnomaly(ts, ts, ts, f.severity, faces)
            emit.append((f, "new", ts))
            continue
        due = (ts - prev.last_emitted).total_seconds() >= cfg.continuing_every_seconds
        worse = _RANK[f.severity] > _RANK[prev.severity]
        grew = not set(faces) <= set(prev.facets)  # the incident shows a new face: news
        if due or worse or grew:
            nxt[f.key] = ActiveAnomaly(prev.first_seen, ts, ts, max(f.severity, prev.severity, key=_RANK.get),
                                       tuple(sorted({*faces, *prev.facets})))
            emit.append((f, "continuing", prev.first_seen))
        else:
            nxt[f.key] = ActiveAnomaly(prev.first_seen, ts, prev.last_emitted, prev.severity, prev.facets)
    return emit, nxt
