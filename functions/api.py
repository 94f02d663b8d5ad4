"""HTTP API: anomalies, chain analytics, signals, health. Reads only; keys required except health.

Keys are the default; ``API_AUTH_LEVEL=anonymous`` (settings.api_auth_level) is for the app linked
behind the Static Web App, whose link is then the gate.

Every filter is a fixed OData template with named parameters (see params.py);
every parameter is validated and a bad one gets 400 with a message.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import azure.functions as func
from azure.core.exceptions import AzureError

from functions import storage
from functions.chainstate import STATE_ROW
from functions.http import DATA_AUTH, error, json_response
from functions.keys import day_partition, time_row
from functions.params import (AnomalyQuery, ParamError, encode_token, parse_every, parse_limit, parse_time,
                              parse_underlying)
from functions.settings import settings
from spyglass import __version__
from spyglass.clock import NEW_YORK

bp = func.Blueprint()
log = logging.getLogger("spyglass.api")
_ID = re.compile(r"^[0-9a-f]{24}$")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Storage reachable, age of the newest snapshot per underlying, version. No data beyond that."""
    try:
        states = list(storage.table(settings().chainstate_table).query_entities(
            "RowKey eq @row", parameters={"row": STATE_ROW}, select=["PartitionKey", "last_ts"]))
    except AzureError as exc:
        log.error("health: storage unreachable: %s", exc)
        return json_response({"status": "unhealthy", "storage": "unreachable", "version": __version__}, 503)
    now = _now()
    newest: dict[str, datetime] = {}
    for e in states:
        underlying = e["PartitionKey"].rsplit("-", 1)[0]
        if e.get("last_ts") and (underlying not in newest or e["last_ts"] > newest[underlying]):
            newest[underlying] = e["last_ts"]
    ages = {u: round((now - ts).total_seconds(), 3) for u, ts in newest.items()}
    return json_response({"status": "ok", "storage": "ok", "version": __version__,
                          "last_snapshot_age_seconds": ages})


@bp.route(route="anomalies", methods=["GET"], auth_level=DATA_AUTH)
def list_anomalies(req: func.HttpRequest) -> func.HttpResponse:
    try:
        q = AnomalyQuery.from_params(dict(req.params), settings().default_underlying, _now())
    except ParamError as exc:
        return error(400, str(exc))
    flt, params = q.table_filter()
    pages = storage.table(settings().anomalies_table).query_entities(
        flt, parameters=params, results_per_page=q.limit).by_page(continuation_token=q.continuation)
    items = [storage.entity_anomaly(e) for e in next(pages, [])]
    token = encode_token(pages.continuation_token)
    return json_response({"items": items, "count": len(items), "continuation": token})


@bp.route(route="anomalies/{id}", methods=["GET"], auth_level=DATA_AUTH)
def get_anomaly(req: func.HttpRequest) -> func.HttpResponse:
    anomaly_id = req.route_params.get("id", "")
    if not _ID.match(anomaly_id):
        return error(400, "id must be 24 lowercase hex characters")
    found = storage.table(settings().anomalies_table).query_entities("id eq @id", parameters={"id": anomaly_id})
    for e in found:
        return json_response(storage.entity_anomaly(e))
    return error(404, f"no anomaly {anomaly_id}")


@bp.route(route="chain/latest", methods=["GET"], auth_level=DATA_AUTH)
def chain_latest(req: func.HttpRequest) -> func.HttpResponse:
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
    except ParamError as exc:
        return error(400, str(exc))
    chains = storage.table(settings().chainstate_table)
    states = chains.query_entities("PartitionKey ge @lo and PartitionKey lt @hi and RowKey eq @row",
                                   parameters={"lo": f"{underlying}-", "hi": f"{underlying}-~", "row": STATE_ROW},
                                   select=["PartitionKey", "last_ts"])
    newest = max(states, key=lambda e: e["last_ts"], default=None)
    found = storage.newest_analytics(chains, newest["PartitionKey"]) if newest is not None else None
    return json_response(found) if found else error(404, f"no snapshot of {underlying} yet")


@bp.route(route="chain", methods=["GET"], auth_level=DATA_AUTH)
def chain_at(req: func.HttpRequest) -> func.HttpResponse:
    """The newest snapshot's analytics at or before ``at`` (default now), for that day's expiry."""
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        at = parse_time("at", req.params.get("at")) or _now()
        expiry = req.params.get("expiry") or at.astimezone(NEW_YORK).date().isoformat()
        datetime.strptime(expiry, "%Y-%m-%d")
    except ParamError as exc:
        return error(400, str(exc))
    except ValueError:
        return error(400, "expiry must be YYYY-MM-DD")
    found = storage.newest_analytics(storage.table(settings().chainstate_table),
                                     storage.chain_partition(underlying, expiry), at)
    if found is None:
        return error(404, f"no {underlying} snapshot for expiry {expiry} at or before {at.isoformat()}")
    return json_response(found)


@bp.route(route="chain/history", methods=["GET"], auth_level=DATA_AUTH)
def chain_history(req: func.HttpRequest) -> func.HttpResponse:
    """The day's chain analytics as a series (spot, forward, ATM IV, expected move, 25-delta RR, GEX), oldest first."""
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        until = parse_time("until", req.params.get("until")) or _now()
        since = parse_time("since", req.params.get("since")) or until - timedelta(hours=7)
        every = parse_every(req.params.get("every"))
        points = parse_limit(req.params.get("points"), name="points", default=400, most=5000)
        expiry = req.params.get("expiry") or until.astimezone(NEW_YORK).date().isoformat()
        datetime.strptime(expiry, "%Y-%m-%d")
    except ParamError as exc:
        return error(400, str(exc))
    except ValueError:
        return error(400, "expiry must be YYYY-MM-DD")
    if since > until:
        return error(400, "since must not be after until")
    if until - since > timedelta(days=1):
        return error(400, "since and until may be at most one day apart")
    every, series = storage.analytics_series(storage.table(settings().chainstate_table),
                                             storage.chain_partition(underlying, expiry), since, until, every, points)
    return json_response({"underlying": underlying, "expiry": expiry, "every": every, "items": series,
                          "count": len(series)})


@bp.route(route="signals", methods=["GET"], auth_level=DATA_AUTH)
def list_signals(req: func.HttpRequest) -> func.HttpResponse:
    """Signals since a time, oldest first: what a reconnecting bot needs to catch up."""
    try:
        underlying = parse_underlying(req.params.get("underlying"), settings().default_underlying)
        now = _now()
        since = parse_time("since", req.params.get("since")) or now - timedelta(hours=1)
        limit = parse_limit(req.params.get("limit"))
    except ParamError as exc:
        return error(400, str(exc))
    if since > now:
        return error(400, "since must not be in the future")
    rows = storage.table(settings().signals_table).query_entities(
        "PartitionKey ge @pk_lo and PartitionKey le @pk_hi and RowKey gt @rk",
        parameters={"pk_lo": day_partition(underlying, since), "pk_hi": day_partition(underlying, now),
                    "rk": time_row(since)}, results_per_page=limit)
    items = []
    for e in rows:
        items.append(storage.entity_anomaly(e))
        if len(items) >= limit:
            break
    return json_response({"items": items, "count": len(items)})
