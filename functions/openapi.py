"""OpenAPI 3.1 description of the HTTP API, built from the same JSON Schemas as the contracts.

OpenAPI 3.1 uses JSON Schema 2020-12, so ``docs/schemas/anomaly-1.schema.json``
is embedded as is; tests validate real responses against this document.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import azure.functions as func
import orjson

from functions.http import json_response
from functions.storage import SERIES_FIELDS
from spyglass import __version__
from spyglass.contract import ANOMALY_TYPES, SEVERITIES

bp = func.Blueprint()
SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"

_ERROR = {"$ref": "#/components/responses/Error"}
_KEY = [{"functionKey": []}, {"functionKeyQuery": []}]


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(item_ref: str) -> dict[str, Any]:
    return {"type": "object", "required": ["items", "count"], "properties": {
        "items": {"type": "array", "items": {"$ref": item_ref}},
        "count": {"type": "integer", "minimum": 0},
        "continuation": {"type": ["string", "null"], "description": "pass back as `continuation` for the next page"},
    }}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    anomaly = orjson.loads((SCHEMAS / "anomaly-1.schema.json").read_bytes())
    for key in ("$schema", "$id"):  # $id would re-base every $ref below it
        anomaly.pop(key, None)
    defs = anomaly.pop("$defs", {})
    anomaly = orjson.loads(orjson.dumps(anomaly).replace(b'"#/$defs/', b'"#/components/schemas/'))
    time = {"type": "string", "format": "date-time"}
    underlying = _param("underlying", "query", {"type": "string", "pattern": "^[A-Z][A-Z0-9.]{0,9}$"},
                        "ticker; default SPY")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Spyglass API", "version": __version__,
                 "description": "0DTE option-chain anomalies, chain analytics and signals. Reads only."},
        "servers": [{"url": "/api"}],
        "security": _KEY,
        "paths": {
            "/health": {"get": {
                "summary": "Storage reachable, age of the newest snapshot, version", "security": [],
                "responses": {"200": _json({"$ref": "#/components/schemas/Health"}, "healthy"),
                              "503": _json({"$ref": "#/components/schemas/Health"}, "storage unreachable")}}},
            "/anomalies": {"get": {
                "summary": "Anomalies in a time window, oldest first, paged",
                "parameters": [
                    _param("since", "query", time, "start (default: until minus one day)"),
                    _param("until", "query", time, "end (default: now)"),
                    _param("type", "query", {"enum": list(ANOMALY_TYPES)}, "anomaly type"),
                    _param("severity", "query", {"enum": list(SEVERITIES)}, "severity"),
                    _param("right", "query", {"enum": ["C", "P"]}, "call or put"),
                    _param("min_strike", "query", {"type": "number", "minimum": 0}, "lowest strike"),
                    _param("max_strike", "query", {"type": "number", "minimum": 0}, "highest strike"),
                    underlying,
                    _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "page size"),
                    _param("continuation", "query", {"type": "string"}, "token from the previous page"),
                ],
                "responses": {"200": _json(_page("#/components/schemas/Anomaly"), "a page of anomalies"),
                              "400": _ERROR, "401": {"description": "function key missing or wrong"}}}},
            "/anomalies/{id}": {"get": {
                "summary": "One anomaly by id",
                "parameters": [_param("id", "path", {"type": "string", "pattern": "^[0-9a-f]{24}$"}, "anomaly id",
                                      True)],
                "responses": {"200": _json({"$ref": "#/components/schemas/Anomaly"}, "the anomaly"),
                              "400": _ERROR, "404": _ERROR}}},
            "/chain/latest": {"get": {
                "summary": "Analytics of the newest snapshot", "parameters": [underlying],
                "responses": {"200": _json({"$ref": "#/components/schemas/ChainAnalytics"}, "chain analytics"),
                              "400": _ERROR, "404": _ERROR}}},
            "/chain": {"get": {
                "summary": "Analytics of the newest snapshot at or before a time",
                "parameters": [_param("at", "query", time, "time (default now)"), underlying,
                               _param("expiry", "query", {"type": "string", "format": "date"}, "default: at's day")],
                "responses": {"200": _json({"$ref": "#/components/schemas/ChainAnalytics"}, "chain analytics"),
                              "400": _ERROR, "404": _ERROR}}},
            "/chain/history": {"get": {
                "summary": "The day's chain analytics as a series, one point per `every` seconds, oldest first",
                "parameters": [_param("since", "query", time, "start (default: until minus 7 hours)"),
                               _param("until", "query", time, "end (default: now); at most one day after since"),
                               underlying,
                               _param("expiry", "query", {"type": "string", "format": "date"}, "default: until's day"),
                               _param("every", "query", {"type": "integer", "minimum": 1, "maximum": 3600},
                                      "seconds per point: the newest snapshot in each interval (default: from points)"),
                               _param("points", "query", {"type": "integer", "minimum": 1, "maximum": 5000},
                                      "without every: about this many points over the data found (default 400)")],
                "responses": {"200": _json({"$ref": "#/components/schemas/ChainSeries"}, "the series"),
                              "400": _ERROR}}},
            "/signals": {"get": {
                "summary": "Actionable signals since a time, oldest first (for catching up after a reconnect)",
                "parameters": [_param("since", "query", time, "default: one hour ago"), underlying,
                               _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "max")],
                "responses": {"200": _json(_page("#/components/schemas/Anomaly"), "signals"), "400": _ERROR}}},
            "/negotiate": {"post": {
                "summary": "SignalR connection info for hub `spyglass` (targets: anomaly, chain, signal)",
                "responses": {"200": _json({"$ref": "#/components/schemas/Negotiate"}, "connection info")}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
            "responses": {"Error": _json({"$ref": "#/components/schemas/Error"}, "a bad request, with the reason")},
            "schemas": {
                **defs,
                "Anomaly": anomaly,
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["status", "message"],
                    "properties": {"status": {"type": "integer"}, "message": {"type": "string"}}}}},
                "Health": {"type": "object", "required": ["status", "storage", "version"], "properties": {
                    "status": {"enum": ["ok", "unhealthy"]}, "storage": {"enum": ["ok", "unreachable"]},
                    "version": {"type": "string"},
                    "last_snapshot_age_seconds": {"type": "object", "additionalProperties": {"type": "number"}}}},
                "Negotiate": {"type": "object", "required": ["url", "accessToken"], "properties": {
                    "url": {"type": "string"}, "accessToken": {"type": "string"}}},
                "ChainSeries": {"type": "object", "required": ["underlying", "expiry", "every", "items", "count"],
                                "properties": {
                    "underlying": {"type": "string"}, "expiry": {"type": "string", "format": "date"},
                    "every": {"type": "integer"}, "count": {"type": "integer", "minimum": 0},
                    "items": {"type": "array", "items": {"type": "object", "required": ["ts"], "properties": {
                        "ts": time, **{name: {"type": ["number", "null"]} for name in SERIES_FIELDS}}}}}},
                "ChainAnalytics": {"type": "object", "required": [
                    "schema", "underlying", "expiry", "ts", "spot", "forward", "atm_iv", "expected_move",
                    "rr25_vol_points", "fit", "gex", "data_quality", "contracts"], "properties": {
                    "schema": {"const": "chain-analytics/1"}, "underlying": {"type": "string"},
                    "expiry": {"type": "string", "format": "date"}, "ts": time, "seq": {"type": ["integer", "null"]},
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


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(document())
