"""A local Azure Static Web App: serves ``static-web/`` the way SWA does and proxies ``/api/*`` to the Functions host.

What it takes from ``staticwebapp.config.json``, as SWA applies it:
- ``routes`` (first match wins): ``allowedRoles``, ``headers``, ``statusCode``, ``redirect``, ``rewrite``;
- ``globalHeaders`` on every response (route headers override them);
- ``navigationFallback`` (``rewrite`` + ``exclude`` globs) for paths that are not files;
- ``mimeTypes`` and ``responseOverrides`` (status -> ``rewrite``/``redirect``/``statusCode``).

``/api/*`` goes to the Functions host with the function key added, as the SWA linked
backend reaches the Function App in Azure (docs/operations.md, Auth): the browser never
holds a key. The caller's identity is forwarded as ``x-ms-client-principal`` like SWA does.

Locally there is no sign-in: every request runs as a dev user holding ``roles`` (by
default every role the config names, so the dashboard works; pass fewer to test 401s).
The CSP's Azure SignalR sources (``*.service.signalr.net``) are rewritten to the local
SignalR service's origin, the only connect-src difference between here and Azure.

A URL the front end would refuse never reaches the routes (``resolve_url``): SWA's content is
served behind IIS (its 404.11 request-filtering pages show it, static-web-apps#72), so the
defaults of http.sys and IIS request filtering are applied: 400 for a bad escape, a control
character, a segment over 260 characters or ``..`` above the root; 404 for a path over 4096
or a query over 2048 characters. Dot segments inside the site are resolved, as http.sys does.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fnmatch
import json
import mimetypes
import re
import threading
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from devstack.stack import REPO, free_port

SITE = REPO / "static-web"
CONFIG = "staticwebapp.config.json"
AZURE_SIGNALR = re.compile(r"(?:https|wss)://\*\.service\.signalr\.net")
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length",
        "content-encoding", "x-functions-key", "x-ms-client-principal"}


MAX_SEGMENT = 260  # http.sys UrlSegmentMaxLength
MAX_URL = 4096  # IIS requestLimits maxUrl (404.14)
MAX_QUERY = 2048  # IIS requestLimits maxQueryString (404.15)
_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class BadUrl(ValueError):
    """A URL the front end refuses; ``status`` is what it answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def resolve_url(raw_path: bytes, query: bytes) -> str:
    """The decoded path with its dot segments resolved, or BadUrl for what http.sys / IIS refuse."""
    if len(raw_path) > MAX_URL:
        raise BadUrl(404, "URL too long")
    if len(query) > MAX_QUERY:
        raise BadUrl(404, "query string too long")
    if _ESCAPE.search(raw_path) or _ESCAPE.search(query):
        raise BadUrl(400, "bad percent-escape")
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        raise BadUrl(400, "not UTF-8") from None
    if any(unicodedata.category(c) == "Cc" for c in path):  # the query is the application's to judge
        raise BadUrl(400, "control character")
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if len(segment) > MAX_SEGMENT:
            raise BadUrl(400, "segment too long")
        if segment == "..":
            if not segments:
                raise BadUrl(400, "above the root")
            segments.pop()
        elif segment != ".":
            segments.append(segment)
    return "/" + "/".join(segments)


def load_config(site: Path = SITE) -> dict[str, Any]:
    return json.loads((site / CONFIG).read_text())


def config_roles(config: dict[str, Any]) -> tuple[str, ...]:
    roles = {r for route in config.get("routes", []) for r in route.get("allowedRoles", [])}
    return tuple(sorted(roles | {"anonymous", "authenticated"}))


def route_matches(pattern: str, path: str) -> bool:
    """SWA route patterns: exact, or a trailing ``*`` wildcard (``/api/*`` also matches ``/api``)."""
    if pattern.endswith("/*") and path == pattern[:-2]:
        return True
    return fnmatch.fnmatchcase(path, pattern)


def glob_matches(pattern: str, path: str) -> bool:
    """navigationFallback.exclude globs: ``*`` and ``{a,b}`` alternatives (``/images/*.{png,jpg}``)."""
    brace = re.search(r"\{([^{}]*)\}", pattern)
    if brace is None:
        return fnmatch.fnmatchcase(path, pattern)
    head, tail = pattern[:brace.start()], pattern[brace.end():]
    return any(glob_matches(head + alt + tail, path) for alt in brace.group(1).split(","))


def local_csp(csp: str, signalr_origin: str | None) -> str:
    """Swap the Azure SignalR connect-src sources for the local service's http and ws origins."""
    if not signalr_origin:
        return csp
    local = [signalr_origin, "ws" + signalr_origin[len("http"):]]
    directives = []
    for directive in csp.split(";"):
        name, *sources = directive.split()
        if name == "connect-src":
            sources = [s for s in sources if not AZURE_SIGNALR.fullmatch(s)] + local
        directives.append(" ".join([name, *sources]))
    return "; ".join(directives)


@dataclass
class StaticWebApp:
    """The ASGI app. ``api`` is the Functions host's ``.../api`` base URL."""

    api: str
    function_key: str
    site: Path = SITE
    signalr_origin: str | None = None
    roles: tuple[str, ...] | None = None
    config: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.config = load_config(self.site)
        if self.roles is None:
            self.roles = config_roles(self.config)
        for ext, mime in self.config.get("mimeTypes", {}).items():
            mimetypes.add_type(mime, ext)
        self._http: httpx.AsyncClient | None = None

    def app(self) -> ASGIApp:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            # pooled connections are dropped after 1 s idle, well before the backend's keep-alive timeout (uvicorn's
            # 5 s) closes them. With equal timeouts (httpx's default is also 5 s) a request sent just as the backend
            # gives up on the idle connection finds it closed: a 502 that came and went with the machine's load
            async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=1.0)) as self._http:
                yield

        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        site = Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)], lifespan=lifespan)

        async def front_end(scope: Scope, receive: Receive, send: Send) -> None:
            """Refuse a bad URL before routing, as the front end does; route the resolved path."""
            if scope["type"] == "http":
                try:
                    scope = {**scope, "path": resolve_url(scope.get("raw_path") or scope["path"].encode(),
                                                          scope.get("query_string", b""))}
                except BadUrl as bad:
                    text = "Bad Request - Invalid URL" if bad.status == 400 else "Not Found"
                    await PlainTextResponse(f"{text} ({bad})", bad.status)(scope, receive, send)
                    return
            await site(scope, receive, send)

        return front_end

    async def handle(self, request: Request) -> Response:
        path = request.scope["path"]
        route = next((r for r in self.config.get("routes", []) if route_matches(r["route"], path)), {})
        allowed = route.get("allowedRoles")
        if allowed and not set(allowed) & set(self.roles or ()):
            return self._finish(self._override(401) or JSONResponse({"error": "sign in required"}, 401), route)
        if route.get("redirect"):
            return self._finish(RedirectResponse(route["redirect"], route.get("statusCode", 302)), route)
        if route.get("statusCode") and not route.get("rewrite"):
            return self._finish(self._override(route["statusCode"]) or Response(status_code=route["statusCode"]),
                                route)
        path = route.get("rewrite", path)
        if path == "/api" or path.startswith("/api/"):
            return self._finish(await self._proxy(request, path), route, api=True)
        return self._finish(self._static(path), route)

    def _static(self, path: str) -> Response:
        target = self._file(path)
        if target is None:
            fallback = self.config.get("navigationFallback", {})
            excluded = any(glob_matches(g, path) for g in fallback.get("exclude", []))
            if fallback.get("rewrite") and not excluded:
                target = self._file(fallback["rewrite"])
        if target is None:
            return self._override(404) or Response("not found", 404, media_type="text/plain")
        return FileResponse(target)

    def _file(self, path: str) -> Path | None:
        rel = path.lstrip("/") or "index.html"
        try:
            target = (self.site / rel).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(self.site.resolve()) or not target.is_file() or target.name == CONFIG:
                return None
        except OSError:  # e.g. a name longer than the file system allows: no such file
            return None
        return target

    def _override(self, status: int) -> Response | None:
        rule = self.config.get("responseOverrides", {}).get(str(status))
        if not rule:
            return None
        if rule.get("redirect"):
            return RedirectResponse(rule["redirect"], rule.get("statusCode", 302))
        target = self._file(rule["rewrite"]) if rule.get("rewrite") else None
        if target is not None:
            return FileResponse(target, status_code=rule.get("statusCode", status))
        return Response(status_code=rule.get("statusCode", status))

    async def _proxy(self, request: Request, path: str) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP and k.lower() != "cookie"}
        principal = {"identityProvider": "local", "userId": "local-dev", "userDetails": "local developer",
                     "userRoles": list(self.roles or ())}
        headers["x-ms-client-principal"] = base64.b64encode(json.dumps(principal).encode()).decode()
        headers["x-functions-key"] = self.function_key
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "code"]  # no key from the browser
        url = self.api.rstrip("/") + quote(path[len("/api"):])  # the resolved path, escaped again
        body = await request.body()
        try:
            assert self._http is not None, "served without its lifespan"
            upstream = await self._http.request(request.method, url, params=params, headers=headers, content=body)
        except httpx.InvalidURL as exc:
            return PlainTextResponse(f"Bad Request - Invalid URL ({exc})", 400)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": {"status": 502, "message": f"backend unreachable: {exc}"}}, 502)
        keep = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
        return Response(upstream.content, upstream.status_code, headers=keep)

    def _finish(self, response: Response, route: dict[str, Any], api: bool = False) -> Response:
        headers = {**self.config.get("globalHeaders", {}), **route.get("headers", {})}
        for name, value in headers.items():
            if name.lower() == "content-security-policy":
                value = local_csp(value, self.signalr_origin)
            if not (api and name.lower() in response.headers):
                response.headers[name] = value
        return response


class WebServer:
    """Runs the stand-in in a thread (for ``LocalStack(web=True)`` and tests); ``url`` once started."""

    def __init__(self, app: StaticWebApp, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._server = uvicorn.Server(uvicorn.Config(app.app(), host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="on", ws="none"))
        self._thread = threading.Thread(target=self._server.run, name="static-web-app", daemon=True)

    def start(self, timeout: float = 15.0) -> WebServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local Static Web App did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def signalr_origin(connection_string: str) -> str:
    from devstack.signalr import parse_connection_string

    parts = urlsplit(parse_connection_string(connection_string).client_endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--api", required=True, help="Functions host base URL, e.g. http://127.0.0.1:7071/api")
    p.add_argument("--key", required=True, help="function key to inject")
    p.add_argument("--signalr", help="SignalR connection string (for the CSP's connect-src)")
    p.add_argument("--port", type=int, default=4280)
    args = p.parse_args()
    app = StaticWebApp(args.api, args.key, signalr_origin=signalr_origin(args.signalr) if args.signalr else None)
    uvicorn.run(app.app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
