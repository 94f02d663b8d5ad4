"""httpTrigger: functions served under `extensions.http.routePrefix` by Starlette.

Requests and responses go through the library's own converters, so functions get a real
`azure.functions.HttpRequest` and may return a real `HttpResponse` (or a str). Auth
levels: `anonymous` needs nothing; `function`, `admin` and `system` need the host key in
the `x-functions-key` header or the `code` query parameter, else 401. Unmatched routes
and methods get 404, a failing function 500 with an empty body, as in Azure.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from azure.functions import HttpResponse, meta
from azure.functions.http import HttpRequestConverter, HttpResponseConverter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .config import ConfigError
from .index import FunctionSpec
from .invoke import Invoker
from .routes import RouteTemplate, route_sort_key

log = logging.getLogger("devstack.host")
KEY_HEADER = "x-functions-key"
KEYED_LEVELS = ("function", "admin", "system")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    template: RouteTemplate
    methods: frozenset[str] | None
    auth_level: str
    output: str  # name of the `http` output binding ("$return" usually)


def _http_route(spec: FunctionSpec) -> HttpRoute:
    trigger = spec.trigger
    level = str(trigger.get("authLevel", "function")).lower()
    if level not in ("anonymous", *KEYED_LEVELS):
        raise ConfigError(f"function '{spec.name}': authLevel {level!r} is not supported locally")
    outputs = [b.name for b in spec.outputs if b.type == "http"]
    if len(outputs) != 1:
        raise ConfigError(f"function '{spec.name}': an HTTP trigger needs exactly one http output")
    methods = trigger.get("methods")
    return HttpRoute(
        spec=spec,
        template=RouteTemplate(str(trigger.get("route", spec.name))),
        methods=frozenset(methods) if methods else None,
        auth_level=level,
        output=outputs[0],
    )


class HttpFunctions:
    """The ASGI app for all HTTP-triggered functions of one host."""

    def __init__(self, specs: Sequence[FunctionSpec], route_prefix: str, invoker: Invoker, key: str) -> None:
        self.routes = sorted((_http_route(s) for s in specs), key=lambda r: route_sort_key(r.template))
        self.prefix = "/" + route_prefix.strip("/") if route_prefix.strip("/") else ""
        self.invoker = invoker
        self.key = key
        self._admin = Starlette(routes=[Route("/admin/host/status", self.status, methods=["GET"])])

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry: admin routes, else the functions (not a Starlette `{path:path}`, whose `.*`
        stops at a newline and would answer a `%0A` in a path with its own 404)."""
        if scope["type"] != "http" or scope["path"].startswith("/admin/"):
            await self._admin(scope, receive, send)
            return
        if scope["method"] not in ALL_METHODS:
            response: Response = PlainTextResponse("Method Not Allowed", 405, headers={"Allow": ", ".join(ALL_METHODS)})
        else:
            response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    def authorized(self, request: Request, level: str) -> bool:
        if level == "anonymous":
            return True
        supplied = request.headers.get(KEY_HEADER) or request.query_params.get("code") or ""
        return hmac.compare_digest(supplied.encode(), self.key.encode())

    async def status(self, request: Request) -> Response:
        if not self.authorized(request, "admin"):
            return Response(status_code=401)
        return JSONResponse({"state": "Running", "functions": [r.spec.name for r in self.routes]})

    async def handle(self, request: Request) -> Response:
        path = request.scope["path"]  # decoded; request.url would drop tabs and newlines (urlsplit)
        if path == "/" and self.prefix:
            return PlainTextResponse("Your local Functions host is up and running.")
        if self.prefix and not (path == self.prefix or path.startswith(self.prefix + "/")):
            return Response(status_code=404)
        sub = path[len(self.prefix) :]
        for route in self.routes:
            params = route.template.match(sub)
            if params is None or (route.methods and request.method not in route.methods):
                continue
            if not self.authorized(request, route.auth_level):
                return Response(status_code=401)
            return await self._invoke(route, request, params)
        return Response(status_code=404)

    async def _invoke(self, route: HttpRoute, request: Request, params: dict[str, str]) -> Response:
        headers = _joined(request.headers.items(), ", ")
        query = _joined(request.query_params.multi_items(), ",")
        body = await request.body()
        datum = meta.Datum(
            type="http",
            value={
                "method": meta.Datum(request.method, "string"),
                "url": meta.Datum(str(request.url), "string"),
                "headers": {k: meta.Datum(v, "string") for k, v in headers.items()},
                "query": {k: meta.Datum(v, "string") for k, v in query.items()},
                "params": {k: meta.Datum(v, "string") for k, v in params.items()},
                "body": meta.Datum(body, "bytes"),
            },
        )
        func_request = HttpRequestConverter.decode(datum, trigger_metadata={})
        data = {"headers": headers, "query": query, **params}
        outputs = await self.invoker.invoke(
            route.spec, func_request, data, "This function was programmatically called via the host APIs."
        )
        if outputs is None:
            return Response(status_code=500)  # the invoker logged why
        try:
            return to_response(outputs.get(route.output))
        except (TypeError, ValueError) as exc:
            log.error("Function '%s' returned an invalid HTTP response: %s", route.spec.name, exc)
            return Response(status_code=500)


def _joined(items: Any, sep: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in items:
        key = key.lower() if sep == ", " else key
        out[key] = f"{out[key]}{sep}{value}" if key in out else value
    return out


def to_response(value: Any) -> Response:
    """An `http` output value (HttpResponse, str or None) as a Starlette response."""
    if value is None:
        return Response(status_code=204)
    if not isinstance(value, (str, HttpResponse)):
        raise TypeError(f"an http output must be an HttpResponse or str, got {type(value).__name__}")
    datum = HttpResponseConverter.encode(value, expected_type=None)
    if datum.type == "string":
        return PlainTextResponse(datum.value)
    encoded = datum.value
    response = Response(content=encoded["body"].value, status_code=int(encoded["status_code"].value))
    for name, header in encoded["headers"].items():
        response.headers.append(name, header.value)
    for cookie in encoded.get("cookies") or []:
        for morsel in cookie.values():
            response.headers.append("set-cookie", morsel.OutputString())
    return response
