"""The whole local stack as one unit: Azurite, the SignalR service and the Functions hosts.

As in Azure (infra/, docs/operations.md "The API apart from ingest"), the HTTP API runs in its own
host process (``SPYGLASS_APP_ROLE=api``) and the queue and timer functions in ``workers`` others
(``ingest``), so scoring a backlog never holds the API's interpreter; ``split=False`` runs one app
with everything, as a single Function App would.

Each runs in its own process group and is stopped by PID, so Ctrl-C leaves no
orphans. Secrets (the SignalR AccessKey, the function key) are generated per
run; nothing is read from the repository.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from devstack.azurite import Azurite
from devstack.proc import REPO, free_port, kill_group, start_group, stop_group
from devstack.web import StaticWebApp, WebServer, signalr_origin
from spyglass.clock import CLOCK_SETTING
from spyglass.contract import parse_iso

SIGNALR_SETTING = "AzureSignalRConnectionString"
ROLE_SETTING = "SPYGLASS_APP_ROLE"  # functions/roles.py: which blueprints function_app.py registers
# Each role's app settings, as infra/ gives each Function App (docs/operations.md "The API apart from ingest"):
# ingest runs two invocations at a time, since scoring holds the GIL and more threads only add storage traffic
ROLE_SETTINGS: dict[str, dict[str, str]] = {"api": {}, "ingest": {"PYTHON_THREADPOOL_THREAD_COUNT": "2"}, "all": {}}


@dataclass
class LocalStack:
    """Start with ``start()`` (or ``with``), read the URLs and keys, ``stop()`` at the end."""

    azurite: Azurite = field(default_factory=lambda: Azurite(in_memory=True))
    function_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_port: int = field(default_factory=free_port)
    signalr_port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    workers: int = 1  # Functions host processes consuming the queue, as Azure scale-out would run
    split: bool = True  # the API in its own host process, apart from the consumers (False: one app does all)
    clock_start: str | None = None  # ISO time the app's clock reads when the stack starts; None: real time
    message_lease: float | None = None  # seconds a fetched message stays hidden; None: the runtime's 10 minutes
    log_dir: Path | None = None
    web: bool = False  # also serve static-web/ through the local Static Web App (devstack/web.py)
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _host_ports: dict[int, int] = field(default_factory=dict)
    clock_offset_s: float = 0.0  # the app's clock minus real time (SPYGLASS_CLOCK_OFFSET_S), fixed at start
    signalr_connection: str = ""
    _web: WebServer | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api"

    @property
    def web_url(self) -> str:
        """The dashboard, served like the Static Web App, with ``/api/*`` proxied to the host."""
        if self._web is None:
            raise RuntimeError("start the stack with web=True to serve the dashboard")
        return self._web.url

    @property
    def storage_connection(self) -> str:
        return self.azurite.connection_string

    def app_now(self) -> datetime:
        """What the app's clock reads now."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset_s)

    def start(self, timeout: float = 90.0) -> LocalStack:
        if self.clock_start:  # fixed once, so a restarted host's clock goes on where it was
            self.clock_offset_s = (parse_iso(self.clock_start) - datetime.now(timezone.utc)).total_seconds()
        self.azurite.start()
        signalr = self._spawn("signalr", [sys.executable, "-m", "devstack.signalr", "--port", str(self.signalr_port)])
        self.signalr_connection = self._wait_line(signalr, SIGNALR_SETTING + "=", timeout).split("=", 1)[1]
        hosts = [self._spawn_host(n) for n in range(self.workers)]  # unsplit, the first serves the API URL
        if self.split:
            hosts.append(self._spawn_app("api", "api", self.api_port))
        for host in hosts:
            self._wait_line(host, "Functions host ready", timeout)
        if self.web:
            try:
                self._web = WebServer(StaticWebApp(self.api, self.function_key,
                                                   signalr_origin=signalr_origin(self.signalr_connection))).start()
            except BaseException:
                self.stop()  # `with` never reaches __exit__ when __enter__ fails: stop what already runs
                raise
        return self

    def _spawn_host(self, n: int) -> subprocess.Popen:
        """Queue consumer ``n`` (unsplit, number 0 also serves the API on ``api_port``)."""
        port = self._host_ports.setdefault(n, self.api_port if n == 0 and not self.split else free_port())
        return self._spawn_app("host" if n == 0 else f"host{n}", "ingest" if self.split else "all", port)

    def _spawn_app(self, name: str, role: str, port: int) -> subprocess.Popen:
        settings = {"AzureWebJobsStorage": self.storage_connection, SIGNALR_SETTING: self.signalr_connection,
                    ROLE_SETTING: role, **ROLE_SETTINGS[role],
                    **({CLOCK_SETTING: str(self.clock_offset_s)} if self.clock_start else {}), **self.settings}
        args = [sys.executable, "-m", "devstack.host", "--app", str(REPO / "function_app.py"), "--port", str(port)]
        if self.message_lease is not None:
            args += ["--message-lease", str(self.message_lease)]
        for k, v in settings.items():
            args += ["--setting", f"{k}={v}"]
        return self._spawn(name, args, env={"SPYGLASS_FUNCTION_KEY": self.function_key})

    def kill_host(self, n: int = 0) -> None:
        """SIGKILL queue consumer ``n``: a crash mid-invocation; its leased messages stay hidden for the lease."""
        proc = self._host(n)
        kill_group(proc)
        self._procs.remove(proc)

    def start_host(self, n: int = 0, timeout: float = 90.0) -> None:
        """Start Functions host ``n`` again on its port (after ``kill_host``)."""
        self._respawn(lambda: self._spawn_host(n), "Functions host ready", timeout)

    def _respawn(self, spawn: Callable[[], subprocess.Popen], marker: str, timeout: float) -> str:
        """Start a process again on its old port, retrying while the old socket lingers."""
        deadline = time.monotonic() + timeout
        while True:
            proc = spawn()
            try:
                return self._wait_line(proc, marker, timeout)
            except RuntimeError:
                self._procs.remove(proc)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def host_pid(self, n: int = 0) -> int:
        return self._host(n).pid

    def _host(self, n: int) -> subprocess.Popen:
        port = str(self._host_ports[n])
        return next(p for p in self._procs if "devstack.host" in p.args and port in p.args)

    def stop_signalr(self) -> None:
        """Stop the SignalR service; its clients get a close message that allows reconnecting."""
        old = next(p for p in self._procs if "devstack.signalr" in p.args)
        stop_group(old)
        self._procs.remove(old)

    def start_signalr(self, timeout: float = 30.0) -> None:
        """Start the SignalR service again on the same port with the same AccessKey."""
        args = [sys.executable, "-m", "devstack.signalr", "--connection-string", self.signalr_connection]
        self._respawn(lambda: self._spawn("signalr", args), SIGNALR_SETTING + "=", timeout)

    def stop(self) -> None:
        if self._web is not None:
            self._web.stop()
            self._web = None
        for p in reversed(self._procs):
            stop_group(p)
        self._procs.clear()
        self.azurite.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        proc = start_group(args, stdout=subprocess.PIPE, stderr=log or subprocess.DEVNULL, env=env)
        self._procs.append(proc)
        return proc

    def _wait_line(self, proc: subprocess.Popen, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode(errors="replace").strip()
            if marker in line:
                _drain(proc)
                return line
            if not line and proc.poll() is not None:
                raise RuntimeError(f"{proc.args[2]} exited with {proc.returncode} before it was ready")
        raise TimeoutError(f"{proc.args[2]} not ready within {timeout} s")


def _drain(proc: subprocess.Popen) -> None:
    """Keep reading a child's stdout in the background so a full pipe never blocks it."""

    def pump() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    threading.Thread(target=pump, daemon=True).start()
