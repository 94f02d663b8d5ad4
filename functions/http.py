"""JSON responses and errors, one shape for every route, and who may call the data routes."""

from __future__ import annotations

from typing import Any

import azure.functions as func
import orjson

from functions.settings import api_auth_level

DATA_AUTH = func.AuthLevel(api_auth_level())  # keys unless the app sits behind the Static Web App


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status, mimetype="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def error(status: int, message: str) -> func.HttpResponse:
    return json_response({"error": {"status": status, "message": message}}, status)
