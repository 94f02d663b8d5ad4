"""JSON responses and errors, one shape for every route; who may call the data routes; 405 for wrong methods."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import azure.functions as func
import orjson

from functions.auth import api_auth_level

DATA_AUTH = func.AuthLevel(api_auth_level())  # keys unless the app sits behind the Static Web App
# Every method a Functions HTTP binding can name. The host answers a method the binding does not list with
# 404, not 405 (azure-functions-host#10098), so each route takes them all and answers the wrong ones itself.
EVERY_METHOD = tuple(m.value for m in func.HttpMethod)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status, mimetype="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def error(status: int, message: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return json_response({"error": {"status": status, "message": message}}, status, headers)


def route(bp: func.Blueprint, path: str, *methods: str, auth_level: func.AuthLevel) -> Callable[[Callable], Any]:
    """``bp.route`` for ``methods`` only: any other method gets 405 with ``Allow`` (RFC 9110 15.5.6).

    Apply it directly to the function (below any binding decorators). The allowed methods are kept on
    the handler as ``allowed``, for the OpenAPI document's tests.
    """
    allowed = tuple(m.upper() for m in methods)
    allow = ", ".join(allowed)

    def register(fn: Callable[..., func.HttpResponse]) -> Any:
        @functools.wraps(fn)  # the worker reads the parameters (bindings) from the wrapped signature
        def handler(req: func.HttpRequest, *args: Any, **kwargs: Any) -> func.HttpResponse:
            if req.method.upper() not in allowed:
                return error(405, f"{req.method.upper()} is not allowed here; use {allow}", {"Allow": allow})
            return fn(req, *args, **kwargs)

        handler.allowed = allowed  # type: ignore[attr-defined]
        return bp.route(route=path, methods=EVERY_METHOD, auth_level=auth_level)(handler)

    return register
