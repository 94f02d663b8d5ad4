"""Schemathesis hooks for tests/stack/test_api_on_stack.py: the documented deviations (docs/operations.md).

A generated *positive* case can be valid to the schema and still rightly refused with 400 for
what OpenAPI cannot state, so it is repaired before it is sent:
- a rule between two parameters (params.ParamConflict: since after until, a window too long,
  min_strike above max_strike): ``until`` becomes ``since``, the strikes are swapped;
- a ``continuation`` token: only one the API issued, for the same query, is valid (tokens.py),
  and a generated one never is, so it is left out.
Negative cases are sent as generated; test_params.py checks each of these 400s.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import schemathesis

from functions.params import (DEFAULT_WINDOW, MAX_ANOMALY_WINDOW, MAX_HISTORY_WINDOW, MAX_OUTCOME_WINDOW,
                              ParamConflict, ParamError, parse_float, parse_time, window)

WINDOWS = {"/anomalies": (DEFAULT_WINDOW, MAX_ANOMALY_WINDOW), "/chain/history": (timedelta(hours=7),
                                                                                  MAX_HISTORY_WINDOW),
           "/outcomes/summary": (DEFAULT_WINDOW, MAX_OUTCOME_WINDOW)}


def conflicts(path: str, query: dict) -> bool:
    """Whether the app would refuse ``query`` for a rule between parameters (and only for that)."""
    try:
        if path in WINDOWS:
            until = parse_time("until", query.get("until")) or datetime.now(timezone.utc)
            window(parse_time("since", query.get("since")), until, *WINDOWS[path])
        lo, hi = parse_float("min_strike", query.get("min_strike")), parse_float("max_strike", query.get("max_strike"))
        return lo is not None and hi is not None and lo > hi
    except ParamConflict:
        return True
    except ParamError:
        return False  # invalid on its own: not ours to repair


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.query, dict):
        return case
    case.query.pop("continuation", None)
    query = case.query
    if "since" in query and case.operation.path in WINDOWS and conflicts(case.operation.path, _text(query)):
        query["until"] = query["since"]
    if "min_strike" in query and "max_strike" in query and conflicts(case.operation.path, _text(query)):
        query["min_strike"], query["max_strike"] = query["max_strike"], query["min_strike"]
    return case


def _text(query: dict) -> dict[str, str]:
    """The values as they go on the wire."""
    return {k: str(v) for k, v in query.items()}
