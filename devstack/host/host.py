"""The local Functions host: one process serving an app's HTTP, queue and timer functions.

Everything is validated before anything starts (settings, bindings, routes, schedules),
so a misconfigured app fails fast with one clear error instead of half-running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import uvicorn

from .config import HostConfig, Settings
from .index import FunctionSpec, LoadedApp, index_app, load_app, locate_app
from .invoke import Invoker
from .queues import QueueListener
from .storage import QueueClients
from .timers import Schedule, TimerListener, time_zone
from .web import HttpFunctions

log = logging.getLogger("devstack.host")
KEY_SETTING = "SPYGLASS_FUNCTION_KEY"


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the host owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class FunctionUrl:
    name: str
    url: str
    methods: tuple[str, ...] | None
    auth_level: str


class FunctionsHost:
    """Runs one function app; `await start()` / `await stop()` on an asyncio loop."""

    def __init__(
        self,
        app: str | ModuleType = "function_app",
        *,
        settings: Mapping[str, str] | None = None,
        host_json: str | Path | Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 7071,
        function_key: str | None = None,
        message_lease: float = 600.0,
        drain_timeout: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        self.app_target = app
        self.overrides = dict(settings or {})
        self.host_json = host_json
        self.host = host
        self.port = port
        self.function_key = function_key
        self.message_lease = message_lease
        self.drain_timeout = drain_timeout
        self.log_level = log_level
        self.loaded: LoadedApp | None = None
        self.config = HostConfig()
        self.functions: list[FunctionSpec] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._queue_listeners: list[QueueListener] = []
        self._server: _Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._undo_env: Callable[[], None] | None = None
        self._invoker: Invoker | None = None
        self._clients = QueueClients()
        self._http: HttpFunctions | None = None

    @property
    def module(self) -> ModuleType:
        assert self.loaded is not None, "host not started"
        return self.loaded.module

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        prefix = self.config.route_prefix
        return f"{self.base_url}/{prefix}" if prefix else self.base_url

    def urls(self) -> list[FunctionUrl]:
        routes = self._http.routes if self._http else []
        return [
            FunctionUrl(
                r.spec.name,
                f"{self.api_url}/{r.template.template.strip('/')}",
                tuple(sorted(r.methods)) if r.methods else None,
                r.auth_level,
            )
            for r in routes
        ]

    async def start(self) -> None:
        root = locate_app(self.app_target)
        settings = Settings.load(root, self.overrides)
        self._undo_env = settings.export()  # app settings are environment variables, also at import
        try:
            self.loaded = load_app(self.app_target)
            source = self.host_json if self.host_json is not None else root / "host.json"
            self.config = HostConfig.load(source)
            self.functions = index_app(self.loaded, settings, self.config)
            self.function_key = self.function_key or settings.get(KEY_SETTING) or secrets.token_urlsafe(32)
            self._invoker = Invoker(settings, self._clients, self.config.queues.message_encoding)
            jobs = self._build(settings, self._invoker)
            # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on connections whose socket says TCP;
            # with Nagle a keep-alive response written in two parts waited ~40 ms for the client's delayed ACK
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = sock.getsockname()[1]
            await self._start_server(sock)
        except BaseException:
            await self.stop()
            raise
        self._tasks = [asyncio.create_task(job(), name=name) for name, job in jobs]
        log.info("Host started: %d function(s), %s", len(self.functions), self.api_url)

    def _build(self, settings: Settings, invoker: Invoker) -> list[tuple[str, Callable[[], Any]]]:
        http_specs, jobs = [], []
        tz = time_zone(settings.get("WEBSITE_TIME_ZONE"))
        for spec in self.functions:
            invoker.check(spec)
            kind = spec.trigger.type
            if kind == "httpTrigger":
                http_specs.append(spec)
            elif kind == "queueTrigger":
                conn = settings.connection(spec.trigger.get("connection"), f"function '{spec.name}'")
                listener = QueueListener(spec, conn, self._clients, self.config.queues, invoker, self.message_lease)
                self._queue_listeners.append(listener)
                jobs.append((f"queue:{spec.name}", listener.run))
            elif kind == "timerTrigger":
                timer = TimerListener(spec, Schedule(str(spec.trigger.get("schedule")), tz), invoker)
                jobs.append((f"timer:{spec.name}", timer.run))
        assert self.function_key is not None
        self._http = HttpFunctions(http_specs, self.config.route_prefix, invoker, self.function_key)
        return jobs

    async def _start_server(self, sock: socket.socket) -> None:
        assert self._http is not None
        config = uvicorn.Config(
            self._http.app, lifespan="off", log_level=self.log_level, access_log=self.log_level in ("info", "debug"),
            interface="asgi3",
        )
        self._server = _Server(config)
        task = asyncio.create_task(self._server.serve(sockets=[sock]), name="http")
        while not self._server.started:
            if task.done():
                task.result()
                raise RuntimeError("HTTP server stopped during startup")
            await asyncio.sleep(0.01)
        self._server_task = task

    async def stop(self) -> None:
        """Stop polling and timers, let running queue invocations drain, close HTTP."""
        await asyncio.gather(*(q.stop(self.drain_timeout) for q in self._queue_listeners))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self._queue_listeners = [], []
        if self._server is not None:
            self._server.should_exit = True
            if self._server_task is not None:
                await asyncio.gather(self._server_task, return_exceptions=True)
            self._server, self._server_task = None, None
        if self._invoker is not None:
            self._invoker.close()
            self._invoker = None
        await asyncio.to_thread(self._clients.close)
        if self._undo_env is not None:
            self._undo_env()
            self._undo_env = None


class BackgroundHost:
    """A FunctionsHost on its own thread and loop: for tests and embedding in sync code."""

    def __init__(self, host: FunctionsHost, startup_timeout: float = 30.0) -> None:
        self.host = host
        self.startup_timeout = startup_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="functions-host", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._stop = asyncio.Event()
            loop.run_until_complete(self.host.start())
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread, which re-raises
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_until_complete(self._stop.wait())
            loop.run_until_complete(self.host.stop())
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def start(self) -> FunctionsHost:
        self._thread.start()
        if not self._ready.wait(self.startup_timeout):
            raise TimeoutError("the Functions host did not start in time")
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.host

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread.is_alive() and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    def __enter__(self) -> FunctionsHost:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
