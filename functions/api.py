"""HTTP API: anomalies, chain analytics, signals, health. Reads only; keys required except health.

Keys are the default; ``API_AUTH_LEVEL=anonymous`` (auth.api_auth_level) is for the app linked
behind the Static Web App, whose link is then the gate.

Every filter is a fixed OData template with named parameters (see params.py);
every parameter is validated and a bad one gets 400 with a message. Every read is bounded:
a window of at most 400 days (anomalies, one page per request), one day (chain/history), seven
days back (signals), one partition (chain). A wrong method gets 405 (http.route).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from itertools import islice

import azure.functions as func
from azure.core.exceptions import AzureError

from functions import storage
from functions.chainstate import STATE_ROW
from functions.http import DATA_AUTH, error, json_response, route
from functions.params import (MAX_HISTORY_WINDOW, AnomalyQuery, OutcomeQuery, ParamError, parse_date, parse_every,
                              parse_limit, parse_time, parse_underlying, signals_since, window)
from functions.settings import settings
from spyglass import __version__
from spyglass.clock import NEW_YORK
from spyglass.contract import iso_ms
from spyglass.outcome import grade
from spyglass.wire.tables import OUTCOME_SELECT, chain_partition, entity_anomaly, entity_markouts, rows_since

bp = func.Blueprint()
log = logging.getLogger("spyglass.api")
_ID = re.compile(r"^[0-9a-f]{24}$")
_CHAIN = re.compile(r"([A-Z][A-Z0-9.]{0,9})-(\d{4})(\d\d)(\d\d)")  # a chain state's PartitionKey
MAX_CHAINS = 1000  # chain states read by /chains: far more than underlyings x expiries kept
MAX_GRADED = 100_000  # alerts read by outcomes/summary: the answer says when it stopped there


def _now() -> datetime:
    return datetime.now(timezone.utc)


@route(bp, "health", "GET", auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Storage reachable and the version; anonymous, so it names nothing stored (per-chain ages: /chains)."""
    try:
        list(storage.table(settings().chainstate_table).query_entities(  # one point read, whatever the table holds
            "PartitionKey eq @pk and RowKey eq @rk", parameters={"pk": "health", "rk": "probe"}))
    except AzureError as exc:
        log.error("health: storage unreachable: %s", exc)
        return json_response({"status": "unhealthy", "storage": "unreachable", "version": __version__}, 503)
    return json_response({"status": "ok", "storage": "ok", "version": __version__})


@route(bp, "chains", "GET", auth_level=DATA_AUTH)
def list_chains(req: func.HttpRequest) -> func.HttpResponse:
    """The newest chain of each underlying and the age of its last snapshot, freshest first."""
    states = storage.table(settings().chainstate_table).query_entities(
        "RowKey eq @row", parameters={"row": STATE_ROW}, select=["PartitionKey", "last_ts"])
    newest: dict[str, tuple[datetime, str]] = {}
    for e in islice(states, MAX_CHAINS):
        chain = _CHAIN.fullmatch(e["PartitionKey"])
        ts = e.get("last_ts")
        if chain and isinstance(ts, datetime) and (chain[1] not in newest or ts > newest[chain[1]][0]):
            newest[chain[1]] = (ts, f"{chain[2]}-{chain[3]}-{chain[4]}")
    now = _now()
    items = [{"underlying": u, "expiry": expiry, "ts": iso_ms(ts), "age_seconds": round((now - ts).total_seconds(), 3)}
             for u, (ts, expiry) in sorted(newest.items(), key=lambda kv: kv[1][0], reverse=True)]
    return json_response({"items": items, "count": len(items)})


@route(bp, "anomalies", "GET", auth_level=DATA_AUTH)
def list_anomalies(req: func.HttpRequest) -> func.HttpResponse:
    """One page of anomalies in a window, oldest first, and a signed token for the next page."""
    try:
        q = AnomalyQuery.from_params(dict(req.params), settings().default_underlying, _now())
    except ParamError as exc:
        return error(400, str(exc))
    flt, params = q.table_filter()
    pages = storage.table(settings().anomalies_table).query_entities(
        flt, parameters=params, results_per_page=q.limit).by_page(continuation_token=q.continuation)
    items = [entity_anomaly(e) for e in next(pages, [])]
    return json_response({"items": items, "count": len(items), "continuation": q.next_token(pages.continuation_token)})


@route(bp, "outcomes/summary", "GET", auth_level=DATA_AUTH)
def outcomes_summary(req: func.HttpRequest) -> func.HttpResponse:
    """The alert types graded by their markouts in a window: per type, severity (and all) and horizon."""
    try:
        q = OutcomeQuery.from_params(dict(req.params), settings().default_underlying, _now())
    except ParamError as exc:
        return error(400, str(exc))
    flt, params = q.table_filter()
    rows = storage.table(settings().anomalies_table).query_entities(flt, parameters=params, select=OUTCOME_SELECT)
    marks, read = [], 0
    for e in islice(rows, MAX_GRADED):
        read += 1
        if q.type is None or e.get("type") == q.type:
            marks += entity_markouts(e)
    items = [g.to_dict() for g in grade(marks, by_severity=True)]
    return json_response({"underlying": q.underlying, "since": iso_ms(q.since), "until": iso_ms(q.until),
                          "items": items, "count": len(items), "alerts_read": read, "truncated": read == MAX_GRADED})


@route(bp, "anomalies/{id}", "GET", auth_level=DATA_AUTH)
def get_anomaly(req: func.HttpRequest) -> func.HttpResponse:
    anomaly_id = req.route_params.get("id", "")
    if not _ID.fullmatch(anomaly_id):
        return error(400, "id must be 24 lowercase hex characters")
    found = storage.table(settings().anomalies_table).query_entities("id eq @id", parameters={"id": anomaly_id})
    for e in found:
        return json_response(entity_anomaly(e))
    return error(404, f"no anomaly {anomaly_id}")


@route(bp, "chain/latest", "GET", auth_level=DATA_AUTH)
def chain_latest(req: func.HttpRequest) -> func.HttpResponse:
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
    except ParamError as exc:
        return error(400, str(exc))
    chains = storage.table(settings().chainstate_table)
    states = chains.query_entities("PartitionKey ge @lo and PartitionKey lt @hi and RowKey eq @row",
                                   parameters={"lo": f"{underlying}-", "hi": f"{underlying}-~", "row": STATE_ROW},
                                   select=["PartitionKey", "last_ts"])
    # a chain whose first snapshots are still parked has a state row and no last_ts yet
    newest = max((e for e in states if isinstance(e.get("last_ts"), datetime)), key=lambda e: e["last_ts"],
                 default=None)
    found = storage.newest_analytics(chains, newest["PartitionKey"]) if newest is not None else None
    return json_response(found) if found else error(404, f"no snapshot of {underlying} yet")


@route(bp, "chain", "GET", auth_level=DATA_AUTH)
def chain_at(req: func.HttpRequest) -> func.HttpResponse:
    """The newest snapshot's analytics at or before ``at`` (default now), for that day's expiry."""
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        at = parse_time("at", req.params.get("at")) or _now()
        expiry = parse_date("expiry", req.params.get("expiry")) or at.astimezone(NEW_YORK).date().isoformat()
    except ParamError as exc:
        return error(400, str(exc))
    found = storage.newest_analytics(storage.table(settings().chainstate_table),
                                     chain_partition(underlying, expiry), at)
    if found is None:
        return error(404, f"no {underlying} snapshot for expiry {expiry} at or before {at.isoformat()}")
    return json_response(found)


@route(bp, "chain/history", "GET", auth_level=DATA_AUTH)
def chain_history(req: func.HttpRequest) -> func.HttpResponse:
    """The day's chain analytics as a series (spot, forward, ATM IV, expected move, 25-delta RR, GEX), oldest first."""
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        until = parse_time("until", req.params.get("until")) or _now()
        since = window(parse_time("since", req.params.get("since")), until, timedelta(hours=7), MAX_HISTORY_WINDOW)
        every = parse_every(req.params.get("every"))
        points = parse_limit(req.params.get("points"), name="points", default=400, most=5000)
        expiry = parse_date("expiry", req.params.get("expiry")) or until.astimezone(NEW_YORK).date().isoformat()
    except ParamError as exc:
        return error(400, str(exc))
    every, series = storage.analytics_series(storage.table(settings().chainstate_table),
                                             chain_partition(underlying, expiry), since, until, every, points)
    return json_response({"underlying": underlying, "expiry": expiry, "every": every, "items": series,
                          "count": len(series)})


@route(bp, "signals", "GET", auth_level=DATA_AUTH)
def list_signals(req: func.HttpRequest) -> func.HttpResponse:
    """Signals after a time, oldest first: what a reconnecting bot needs to catch up.

    ``since`` older than seven days is moved up to seven days ago (``since`` in the answer says
    where the list starts); a future ``since`` finds nothing yet.
    """
    now = _now()
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        since = signals_since(req.params.get("since"), now)
        limit = parse_limit(req.params.get("limit"))
    except ParamError as exc:
        return error(400, str(exc))
    flt, params = rows_since(underlying, since, max(since, now))
    rows = storage.table(settings().signals_table).query_entities(flt, parameters=params, results_per_page=limit)
    items = [entity_anomaly(e) for e in islice(rows, limit)]
    return json_response({"items": items, "count": len(items), "since": iso_ms(since)})
