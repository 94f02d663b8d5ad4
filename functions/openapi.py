"""OpenAPI 3.1 description of the HTTP API, built from the same JSON Schemas as the contracts.

OpenAPI 3.1 uses JSON Schema 2020-12, so ``docs/schemas/anomaly-1.schema.json``
is embedded as is; tests validate real responses against this document, and Schemathesis
checks the API against it (tests/stack/test_api_on_stack.py). Every rule params.py applies to
a single parameter is stated here (patterns, ranges, lengths, no empty values); the rules
between two parameters cannot be, and are listed in the descriptions.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import azure.functions as func
import orjson

from functions import params, tokens
from functions.http import json_response, route
from spyglass import __version__
from spyglass.contract import ANOMALY_TYPES, SEVERITIES
from spyglass.wire.tables import SERIES_FIELDS

bp = func.Blueprint()
SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"

_ERROR = {"$ref": "#/components/responses/Error"}
_KEY = [{"functionKey": []}, {"functionKeyQuery": []}]
_TIME = {"$ref": "#/components/schemas/Timestamp"}
_DATE = {"$ref": "#/components/schemas/Date"}
_GUARD = "(?!\\n)$"  # ECMA-262 and Python differ on a trailing newline before $; this makes them agree


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(item_ref: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "count", *extra], "properties": {
        "items": {"type": "array", "items": {"$ref": item_ref}},
        "count": {"type": "integer", "minimum": 0},
        **extra,
    }}


def _int(least: int, most: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": least, "maximum": most}


def _get(summary: str, parameters: list[dict], ok: dict[str, Any], *errors: str) -> dict:
    """A keyed GET operation: 200, the given error statuses, and 401 without the key."""
    responses = {"200": ok, **{status: _ERROR for status in errors},
                 "401": {"description": "function key missing or wrong"}}
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    anomaly = orjson.loads((SCHEMAS / "anomaly-1.schema.json").read_bytes())
    for key in ("$schema", "$id"):  # $id would re-base every $ref below it
        anomaly.pop(key, None)
    defs = anomaly.pop("$defs", {})
    anomaly, defs = (orjson.loads(orjson.dumps(x).replace(b'"#/$defs/', b'"#/components/schemas/'))
                     for x in (anomaly, defs))
    snapshot = orjson.loads((SCHEMAS / "chain-snapshot-1.schema.json").read_bytes())
    timestamp = {**snapshot["$defs"]["timestamp"], "examples": ["2026-11-24T15:30:00Z"]}
    day = {k: v for k, v in anomaly["properties"]["expiry"].items() if k != "description"}
    underlying = _param("underlying", "query", {"type": "string", "minLength": 1, "maxLength": 10,
                                                "pattern": params.UNDERLYING_PATTERN[:-1] + _GUARD},
                        "ticker in capitals; default SPY")
    limit = _param("limit", "query", _int(1, params.MAX_LIMIT), f"page size (default {params.DEFAULT_LIMIT})")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Spyglass API", "version": __version__,
                 "description": "0DTE option-chain anomalies, chain analytics and signals. Reads only. "
                                "A parameter given empty is a 400, like any other invalid value: leave it out "
                                "for its default. A method a path does not list gets 405 with Allow."},
        "servers": [{"url": "/api"}],
        "security": _KEY,
        "paths": {
            "/health": {"get": {
                "summary": "Storage reachable, and the version (anonymous: names nothing stored)", "security": [],
                "responses": {"200": _json({"$ref": "#/components/schemas/Health"}, "healthy"),
                              "503": _json({"$ref": "#/components/schemas/Health"}, "storage unreachable")}}},
            "/chains": _get("The newest chain of each underlying and the age of its last snapshot, freshest first",
                            [], _json({"$ref": "#/components/schemas/Chains"}, "one item per underlying")),
            "/anomalies": _get(
                "Anomalies in a time window, oldest first, paged. An incident (the faces of one event on one "
                "contract) is one item, its other faces in `facets`; a chain-level finding has a null right and "
                "strike. The window (until minus since) is at most "
                f"{params.MAX_ANOMALY_WINDOW.days} days, since must not be after until and min_strike must not "
                "exceed max_strike (400 otherwise). No other parameter is accepted.",
                [_param("since", "query", _TIME, "start (default: until minus one day)"),
                 _param("until", "query", _TIME, "end (default: now)"),
                 _param("type", "query", {"type": "string", "enum": list(ANOMALY_TYPES)},
                        "anomaly type: matches an anomaly of that type, and an incident whose primary type or "
                        "any of whose facets is of that type (a mispricing incident with a parity facet is "
                        "found by type=parity too)"),
                 _param("severity", "query", {"type": "string", "enum": list(SEVERITIES)}, "severity"),
                 _param("right", "query", {"type": "string", "enum": ["C", "P"]}, "call or put"),
                 _param("min_strike", "query", {"type": "number", "minimum": 0}, "lowest strike"),
                 _param("max_strike", "query", {"type": "number", "minimum": 0}, "highest strike"),
                 underlying, limit,
                 _param("continuation", "query",
                        {"type": "string", "minLength": 24, "maxLength": tokens.MAX_TOKEN,
                         "pattern": tokens.TOKEN_PATTERN[:-1] + _GUARD},
                        "the token of the previous page, with the same filters; it keeps the window it was "
                        "issued for (an until left out stays the time of the first page)")],
                _json(_page("#/components/schemas/Anomaly", continuation={
                    "type": ["string", "null"], "description": "pass back as `continuation` for the next page"}),
                    "a page of anomalies"), "400"),
            "/anomalies/{id}": _get(
                "One anomaly by id",
                [_param("id", "path", {"type": "string", "minLength": 24, "maxLength": 24,
                                         "pattern": "^[0-9a-f]{24}" + _GUARD}, "anomaly id", True)],
                _json({"$ref": "#/components/schemas/Anomaly"}, "the anomaly"), "400", "404"),
            "/outcomes/summary": _get(
                "The alert types graded by the market: each alert's trade marked out at 5 s, 30 s, 2 min, 5 min "
                "and at the settlement (anomaly/1 `outcome`), aggregated per type, severity (and `all`) and "
                f"horizon. The window is at most {params.MAX_OUTCOME_WINDOW.days} days; every alert in it is read, up "
                "to a bound (`truncated` says when it was reached), so the answer is one short list, not pages.",
                [_param("since", "query", _TIME, "start (default: until minus one day)"),
                 _param("until", "query", _TIME, "end (default: now)"),
                 _param("type", "query", {"type": "string", "enum": list(ANOMALY_TYPES)},
                        "only alerts of this primary type"), underlying],
                _json({"$ref": "#/components/schemas/OutcomeSummary"}, "the grades"), "400"),
            "/chain/latest": _get("Analytics of the newest snapshot", [underlying],
                                  _json({"$ref": "#/components/schemas/ChainAnalytics"}, "chain analytics"),
                                  "400", "404"),
            "/chain": _get("Analytics of the newest snapshot at or before a time",
                           [_param("at", "query", _TIME, "time (default now)"), underlying,
                            _param("expiry", "query", _DATE, "default: at's day in New York")],
                           _json({"$ref": "#/components/schemas/ChainAnalytics"}, "chain analytics"), "400", "404"),
            "/chain/history": _get(
                "The day's chain analytics as a series, one point per `every` seconds, oldest first. "
                "since must not be after until, and they may be at most one day apart (400 otherwise).",
                [_param("since", "query", _TIME, "start (default: until minus 7 hours)"),
                 _param("until", "query", _TIME, "end (default: now)"),
                 underlying,
                 _param("expiry", "query", _DATE, "default: until's day in New York"),
                 _param("every", "query", _int(1, 3600),
                        "seconds per point: the newest snapshot in each interval (default: from points)"),
                 _param("points", "query", _int(1, 5000),
                        "without every: about this many points over the data found (default 400)")],
                _json({"$ref": "#/components/schemas/ChainSeries"}, "the series"), "400"),
            "/signals": _get(
                "Actionable signals after a time, oldest first (for catching up after a reconnect). A since more "
                f"than {params.SIGNALS_LOOKBACK.days} days ago is moved up to then; `since` in the answer says "
                "where the list starts.",
                [_param("since", "query", _TIME, "default: one hour ago"), underlying, limit],
                _json(_page("#/components/schemas/Anomaly", since={
                    "type": "string", "format": "date-time", "description": "where the list starts (UTC)"}),
                    "signals"), "400"),
            "/negotiate": {"post": {
                "summary": "SignalR connection info for hub `spyglass` (targets: anomaly, chain, signal, outcome)",
                "responses": {"200": _json({"$ref": "#/components/schemas/Negotiate"}, "connection info"),
                              "401": {"description": "function key missing or wrong"}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1",
                                                            "content": {"application/json": {}}}}}},
        },
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
            "responses": {"Error": _json({"$ref": "#/components/schemas/Error"}, "a bad request, with the reason")},
            "schemas": {
                **defs,
                "Timestamp": timestamp,
                "Date": day,
                "Anomaly": anomaly,
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "message"],
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}},
                "Health": {"type": "object", "required": ["status", "storage", "version"],
                           "additionalProperties": False, "properties": {
                               "status": {"enum": ["ok", "unhealthy"]}, "storage": {"enum": ["ok", "unreachable"]},
                               "version": {"type": "string"}}},
                "Chains": _page("#/components/schemas/ChainFreshness"),
                "OutcomeSummary": {
                    "type": "object", "required": ["underlying", "since", "until", "items", "count", "alerts_read",
                                                   "truncated"],
                    "properties": {
                        "underlying": {"type": "string"}, "since": {"$ref": "#/components/schemas/utcMillis"},
                        "until": {"$ref": "#/components/schemas/utcMillis"}, "count": {"type": "integer", "minimum": 0},
                        "alerts_read": {"type": "integer", "minimum": 0}, "truncated": {"type": "boolean"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/OutcomeGrade"}}}},
                "OutcomeGrade": {
                    "type": "object",
                    "required": ["type", "severity", "horizon", "n", "missing", "share_positive", "mean", "median",
                                 "ci_low", "ci_high", "mean_exit"],
                    "properties": {
                        "type": {"type": "string", "enum": list(ANOMALY_TYPES)},
                        "severity": {"type": "string", "enum": [*SEVERITIES, "all"]},
                        "horizon": {"type": "string", "enum": ["5s", "30s", "2m", "5m", "settle"]},
                        "n": {"type": "integer", "minimum": 0, "description": "markouts read"},
                        "missing": {"type": "integer", "minimum": 0, "description": "horizons with no usable quote"},
                        "share_positive": {"type": ["number", "null"], "description": "of the markouts to mid"},
                        "mean": {"type": ["number", "null"], "description": "to mid, $ per contract after fees"},
                        "median": {"type": ["number", "null"]},
                        "ci_low": {"type": ["number", "null"], "description": "the mean's 95% interval (n >= 2)"},
                        "ci_high": {"type": ["number", "null"]},
                        "mean_exit": {"type": ["number", "null"], "description": "closing across the spread"}}},
                "ChainFreshness": {"type": "object", "required": ["underlying", "expiry", "ts", "age_seconds"],
                                   "properties": {
                    "underlying": {"type": "string"}, "expiry": {"type": "string", "format": "date"},
                    "ts": {"$ref": "#/components/schemas/utcMillis"}, "age_seconds": {"type": "number"}}},
                "Negotiate": {"type": "object", "required": ["url", "accessToken"], "properties": {
                    "url": {"type": "string"}, "accessToken": {"type": "string"}}},
                "ChainSeries": {"type": "object", "required": ["underlying", "expiry", "every", "items", "count"],
                                "properties": {
                    "underlying": {"type": "string"}, "expiry": {"type": "string", "format": "date"},
                    "every": {"type": "integer"}, "count": {"type": "integer", "minimum": 0},
                    "items": {"type": "array", "items": {"type": "object", "required": ["ts"], "properties": {
                        "ts": {"type": "string", "format": "date-time"},
                        **{name: {"type": ["number", "null"]} for name in SERIES_FIELDS}}}}}},
                "ChainAnalytics": {"type": "object", "required": [
                    "schema", "underlying", "expiry", "ts", "spot", "forward", "atm_iv", "expected_move",
                    "rr25_vol_points", "fit", "gex", "data_quality", "contracts"], "properties": {
                    "schema": {"const": "chain-analytics/1"}, "underlying": {"type": "string"},
                    "expiry": {"type": "string", "format": "date"}, "ts": {"type": "string", "format": "date-time"},
                    "seq": {"type": ["integer", "null"]},
                    "spot": {"type": "number"}, "forward": {"type": ["number", "null"]},
                    "atm_iv": {"type": ["number", "null"]}, "expected_move": {"type": ["number", "null"]},
                    "rr25_vol_points": {"type": ["number", "null"]},
                    "fit": {"type": "object"}, "data_quality": {"type": "object"},
                    "gex": {"type": "object", "required": ["units", "total", "strikes", "by_strike", "zero_gamma"]},
                    "contracts": {"type": "object", "required": ["right", "strike", "bid_iv", "ask_iv", "mid_iv",
                                                                 "fitted_iv"]}}},
            },
        },
    }


@route(bp, "openapi.json", "GET", auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(document())
