"""data_error: bad data, kept apart from market anomalies.

Contract-level: crossed quotes (bid > ask), negative prices, non-finite
prices, an ask that vanished (every listed option has an offer; an ask that
vanishes from a two-sided line is a feed fault), cumulative volume that fell, duplicate (right, strike).
Quote-level (detect/freshness.py, detect/screen.py): a stale quote (once per
episode), an outlier far from what its neighbours imply.
Snapshot-level: out-of-order or repeated snapshots, snapshots after the close,
a spot that disagrees with the parity forward. A contract with a data error is
excluded from every market rule for that snapshot: errors suppress, never
trigger, market alerts.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from spyglass.contract import Chain, iso_ms
from spyglass.detect.finding import Finding, contract_label
from spyglass.detect.state import ContractSeries

RULE = "data_error"


def _finding(right: str | None, strike: float | None, subtype: str, summary: str, severity: str = "medium",
             **numbers: object) -> Finding:
    return Finding("data_error", right, strike, 1.0, severity, f"{RULE}.{subtype}", summary,
                   numbers={"subtype": subtype, **numbers})


def contract_errors(chain: Chain, prev: ContractSeries | None) -> tuple[np.ndarray, list[Finding]]:
    """Return (mask of contracts with bad data, findings)."""
    bid, ask, last = chain.bid, chain.ask, chain.last
    with np.errstate(invalid="ignore"):
        crossed = np.isfinite(bid) & np.isfinite(ask) & (bid > ask)
        negative = (bid < 0) | (ask < 0) | (last < 0)
        nonfinite = np.isinf(bid) | np.isinf(ask)
        if chain.nonfinite is not None:
            nonfinite = nonfinite | chain.nonfinite
        was_two_sided = prev["was_two_sided"] == 1.0 if prev is not None else np.zeros(len(chain), bool)
        missing_ask = np.isnan(ask) & ~nonfinite & ((np.isfinite(bid) & (bid > 0)) | was_two_sided)
        fell = (chain.volume < prev["volume"]) if prev is not None else np.zeros(len(chain), bool)
    findings: list[Finding] = []
    bad = crossed | negative | nonfinite | missing_ask
    for i in np.flatnonzero(bad | fell):
        k, c = float(chain.strike[i]), bool(chain.is_call[i])
        r, name = ("C" if c else "P"), contract_label(c, k)
        b, a = _num(bid[i]), _num(ask[i])
        pb, pa = _px(bid[i]), _px(ask[i])
        if nonfinite[i]:
            findings.append(_finding(r, k, "nonfinite", f"{name}: a price arrived as NaN or infinity (bid {pb}, "
                                     f"ask {pa}, last {_px(last[i])})", bid=b, ask=a))
        elif crossed[i]:
            findings.append(_finding(r, k, "crossed", f"{name}: crossed quote, bid {pb} above ask {pa}", bid=b, ask=a))
        elif negative[i]:
            findings.append(_finding(r, k, "negative", f"{name}: negative price (bid {pb}, ask {pa}, last "
                                     f"{_px(last[i])})", bid=b, ask=a, last=_num(last[i])))
        elif missing_ask[i]:
            findings.append(_finding(r, k, "missing_ask", f"{name}: no ask (bid {pb}); every listed option has an "
                                     "offer, so the feed dropped it", bid=b))
        if fell[i]:
            pv = float(prev["volume"][i])  # type: ignore[index]
            findings.append(_finding(r, k, "volume_decreased", f"{name}: cumulative volume fell from {pv:,.0f} to "
                                     f"{chain.volume[i]:,.0f}", volume=float(chain.volume[i]), previous_volume=pv))
            bad[i] = True
    for right, strike in chain.duplicates:
        findings.append(_finding(right, strike, "duplicate", f"{right} {strike:g} listed twice in one snapshot; "
                                 "the first quote was kept", severity="low"))
    return bad, findings


def stale_quotes(chain: Chain, idx: np.ndarray, age_s: np.ndarray, model_move: np.ndarray, forward_move: np.ndarray,
                 given: np.ndarray) -> list[Finding]:
    """One finding per line whose stale episode starts now."""
    out = []
    for i in idx:
        k, c = float(chain.strike[i]), bool(chain.is_call[i])
        how = "by its quote age" if given[i] else "unchanged across snapshots"
        out.append(_finding(
            "C" if c else "P", k, "stale_quote",
            f"{contract_label(c, k)}: quote {_px(chain.bid[i])} x {_px(chain.ask[i])} has not updated for "
            f"{age_s[i]:.0f} s ({how}) while the forward moved {forward_move[i]:+.2f}, which should have moved it "
            f"about {model_move[i]:.2f}; not a price until it updates", severity="low",
            age_s=round(float(age_s[i]), 1), bid=_num(chain.bid[i]), ask=_num(chain.ask[i]),
            forward_move=round(float(forward_move[i]), 4), model_move=round(float(model_move[i]), 4),
            age_source="quote_age_ms" if given[i] else "inferred"))
    return out


def outliers(chain: Chain, idx: np.ndarray, fair: np.ndarray, side: np.ndarray) -> list[Finding]:
    """One finding per quote the robust screen set aside."""
    out = []
    for i in idx:
        k, c = float(chain.strike[i]), bool(chain.is_call[i])
        f = float(fair[i])
        q = float(chain.bid[i] if side[i] == "bid" else chain.ask[i])
        how = f"{q / f:.1f}x" if q >= f else f"a {f / q:.0f}th of" if q > 0 else "nothing like"
        out.append(_finding(
            "C" if c else "P", k, "outlier",
            f"{contract_label(c, k)}: {side[i]} {q:.2f} is {how} the {f:.2f} its neighbours' vols imply "
            f"(quote {_px(chain.bid[i])} x {_px(chain.ask[i])}); a bad print, given no weight anywhere",
            bid=_num(chain.bid[i]), ask=_num(chain.ask[i]), neighbour_fair=round(f, 4), side=str(side[i])))
    return out


def out_of_order(ts: datetime, last_ts: datetime, seq: int | None, last_seq: int | None) -> Finding:
    lag = (last_ts - ts).total_seconds()
    return _finding(None, None, "out_of_order", f"snapshot at {iso_ms(ts)} arrived after one at {iso_ms(last_ts)} "
                    f"({lag:.1f} s older); scored for nothing, history untouched", severity="medium",
                    snapshot_ts=iso_ms(ts), last_ts=iso_ms(last_ts), seq=seq, last_seq=last_seq)


def repeated(ts: datetime, identical: bool) -> Finding:
    what = "an exact repeat of" if identical else "a different snapshot with the same timestamp as"
    return _finding(None, None, "stale", f"snapshot at {iso_ms(ts)} is {what} the previous one; stale feed or "
                    "replay, not scored again", severity="low", identical=identical)


def after_close(ts: datetime, close: datetime) -> Finding:
    return _finding(None, None, "after_close", f"snapshot at {iso_ms(ts)} is after the expiry close "
                    f"{iso_ms(close)}; nothing to price", severity="low", close=iso_ms(close))


def spot_mismatch(spot: float, forward: float, carry_forward: float, half_spreads: float) -> Finding:
    gap = forward - carry_forward
    return _finding(None, None, "spot_mismatch", f"spot {spot:.2f} carried to the close is {carry_forward:.2f}, "
                    f"but the options agree on a forward of {forward:.2f} ({gap:+.2f}, {half_spreads:+.0f} of their "
                    "half-spreads); the underlying price is stale or wrong", severity="high",
                    spot=spot, parity_forward=round(forward, 4), carry_forward=round(carry_forward, 4),
                    gap_half_spreads=round(half_spreads, 2))


def _num(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _px(x: float) -> str:
    return "-" if np.isnan(x) else f"{x:.2f}"


def clock_skew(ts: datetime, now: datetime, max_ahead_s: float, max_behind_s: float) -> Finding | None:
    """A snapshot stamped too far ahead of ``now`` or too far behind it: its clock is wrong, not the market.

    Such a snapshot must never become a chain's time (one stamped ten minutes ahead would make
    every later one look out of order; one from 1900 would sort as the newest history row).
    """
    offset = (ts - now).total_seconds()
    if -max_behind_s <= offset <= max_ahead_s:
        return None
    where = (f"{offset:,.0f} s ahead of" if offset > 0 else f"{-offset / 86400:,.1f} days behind")
    return _finding(None, None, "clock_skew", f"snapshot stamped {iso_ms(ts)}, {where} the receiver's clock "
                    f"{iso_ms(now)} (allowed: {max_ahead_s:.0f} s ahead, {max_behind_s / 86400:.0f} days behind); "
                    "not applied, the chain's time is untouched", severity="high", snapshot_ts=iso_ms(ts),
                    now=iso_ms(now), offset_s=round(offset, 3))


def missing(session: str | None, first_seq: int, last_seq: int, waited_s: float, resumed_ts: datetime) -> Finding:
    """Snapshots a producer numbered but that never arrived in time: the chain went on without them."""
    n = last_seq - first_seq + 1
    which = f"seq {first_seq}" if n == 1 else f"seq {first_seq}..{last_seq} ({n} snapshots)"
    run = f" of producer session {session}" if session else ""
    return _finding(None, None, "missing", f"{which}{run} did not arrive within {waited_s:.1f} s; the chain went on "
                    f"at {iso_ms(resumed_ts)} without them (if they come later they are stored, marked late)",
                    severity="medium", session=session, first_seq=first_seq, last_seq=last_seq,
                    waited_s=round(waited_s, 3), resumed_ts=iso_ms(resumed_ts))
