"""A readable summary of a scored day: chain analytics through the day and the anomalies found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from spyglass.clock import NEW_YORK
from spyglass.contract import SEVERITIES, parse_iso


def _ny(ts: str) -> str:
    return parse_iso(ts).astimezone(NEW_YORK).strftime("%H:%M:%S")


def _f(x: Any, fmt: str) -> str:
    return "-" if x is None else format(x, fmt)


def analytics_table(rows: Iterable[dict[str, Any]], every_minutes: float = 30.0) -> list[str]:
    """One row every ``every_minutes`` per chain, in time order whatever order the rows came in (a late row is
    placed, not dropped); chains one after another, each under its name when there are several."""
    chains: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in rows:
        chains.setdefault((a.get("underlying", ""), a.get("expiry", "")), []).append(a)
    out = [f"{'NY time':>8} {'spot':>8} {'fwd':>8} {'ATM IV':>7} {'exp move':>9} {'RR25':>6} {'GEX $/1%':>14} "
           f"{'zero gamma':>18} {'fit':>6} {'quality':>8}"]
    for (underlying, expiry), chain in chains.items():
        if len(chains) > 1:
            out.append(f"{underlying} {expiry}")
        last = None
        for a in sorted(chain, key=lambda r: parse_iso(r["ts"])):
            ts = parse_iso(a["ts"])
            if last is not None and (ts - last).total_seconds() < every_minutes * 60:
                continue
            last = ts
            out.append(_analytics_row(a))
    return out


def _analytics_row(a: dict[str, Any]) -> str:
    zg = ",".join(f"{z:.1f}" for z in a["gex"]["zero_gamma"][:2]) or "-"
    return (
        f"{_ny(a['ts']):>8} {a['spot']:>8.2f} {_f(a['forward'], '.2f'):>8} {_f(a['atm_iv'] and a['atm_iv'] * 100, '.1f'):>7} "
        f"{_f(a['expected_move'], '.2f'):>9} {_f(a['rr25_vol_points'], '+.1f'):>6} {_f(a['gex']['total'], ',.0f'):>14} "
        f"{zg:>18} {a['fit']['method']:>6} {a['data_quality']['grade']:>8}"
    )


def anomaly_summary(anomalies: list[dict[str, Any]], top: int = 12) -> list[str]:
    new = [a for a in anomalies if a.get("evidence", {}).get("state", "new") == "new"]
    counts = Counter((a["type"], a["severity"]) for a in new)
    types = sorted({t for t, _ in counts})
    out = [f"{len(new)} anomalies ({len(anomalies)} records incl. continuing updates)", ""]
    out.append(f"{'type':<16}" + "".join(f"{s:>8}" for s in SEVERITIES) + f"{'total':>8}")
    for t in types:
        row = [counts[(t, s)] for s in SEVERITIES]
        out.append(f"{t:<16}" + "".join(f"{n:>8}" for n in row) + f"{sum(row):>8}")
    ranked = sorted((a for a in new if a.get("edge") is not None), key=lambda a: -a["edge"])[:top]
    if ranked:
        out += ["", f"top {len(ranked)} by edge beyond the spread:"]
        for a in ranked:
            out.append(f"  {_ny(a['ts'])} {a['type']:<11} {a['severity']:<6} ${a['edge']:>7.2f}  "
                       f"{a['evidence']['summary']}")
    errors = [a for a in new if a["type"] == "data_error"][:5]
    if errors:
        out += ["", "data errors (kept apart from market anomalies), first few:"]
        out += [f"  {_ny(a['ts'])} {a['evidence']['summary']}" for a in errors]
    return out
