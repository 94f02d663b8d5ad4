"""Ops endpoints of the collector: ``/healthz``, ``/readyz`` and ``/metrics`` on one small HTTP server.

Built on the standard library's ``ThreadingHTTPServer`` plus ``prometheus_client``'s
exposition: three GET routes need no framework, so the edge image carries no
starlette/uvicorn and the server runs in a daemon thread beside the collector's
asyncio loop (a probe is answered even while the loop is busy).

- ``/healthz``: 200 while the process serves HTTP (liveness: restart only if hung).
- ``/readyz``: the readiness callable ``() -> (ok, reason)``; 200 with the reason, or
  503 with the reason (a callable that raises is not ready, with the error).
- ``/metrics``: the Prometheus text format of ``registry`` (the default one holds
  edge/collector/metrics.py), gzip when the scraper asks for it.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

Readiness = Callable[[], tuple[bool, str]]


def all_ready(*checks: Readiness) -> Readiness:
    """Ready only when every check is; the reasons are joined (e.g. the source's and the publisher's)."""

    def check() -> tuple[bool, str]:
        results = [c() for c in checks]
        return all(ok for ok, _ in results), "; ".join(reason for _, reason in results)

    return check


class OpsServer:
    """``OpsServer(readiness).start()`` serves on ``host:port`` (port 0 picks a free one; see ``.port``)."""

    def __init__(self, readiness: Readiness, *, host: str = "0.0.0.0", port: int = 9100,
                 registry: CollectorRegistry = REGISTRY) -> None:
        self.readiness = readiness
        self.registry = registry
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{self.port}"

    def start(self) -> OpsServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-http", daemon=True)
        self._thread.start()
        log.info("ops endpoints on %s (/healthz, /readyz, /metrics)", self.url)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5.0)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler(ops: OpsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "spyglass-ops"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._reply(200, b"ok\n")
            elif path == "/readyz":
                try:
                    ok, reason = ops.readiness()
                except Exception as exc:  # noqa: BLE001 - a broken check means not ready, with why
                    ok, reason = False, f"readiness check failed: {type(exc).__name__}: {exc}"
                self._reply(200 if ok else 503, f"{'ready' if ok else 'not ready'}: {reason}\n".encode())
            elif path == "/metrics":
                body = generate_latest(ops.registry)
                if "gzip" in self.headers.get("Accept-Encoding", ""):
                    self._reply(200, gzip.compress(body), CONTENT_TYPE_LATEST, {"Content-Encoding": "gzip"})
                else:
                    self._reply(200, body, CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b"not found: /healthz, /readyz, /metrics\n")

        def _reply(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8",
                   extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("ops %s", format % args)

    return Handler
