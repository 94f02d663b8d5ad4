"""The local Functions host, end to end on Azurite with the sample app in sample_app/."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue as queue_module
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devstack.azurite import Azurite
from devstack.host import BackgroundHost, ConfigError, FunctionsHost, HostConfig, UnsupportedBindingError
from devstack.host.config import parse_timespan
from devstack.host.routes import RouteTemplate, route_sort_key

SAMPLE = Path(__file__).parent / "sample_app"
REPO = Path(__file__).resolve().parents[2]
SIGNALR_KEY = "local-signalr-access-key-for-tests-0123456789"
T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll until `check()` is truthy; fail with `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite() as az:
        yield az


def _settings(azurite: Azurite) -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    return {
        "AzureWebJobsStorage": azurite.connection_string,
        "RECORD_QUEUE": f"record-{tag}",
        "FAIL_QUEUE": f"fail-{tag}",
        "FORWARD_IN": f"fwd-in-{tag}",
        "FORWARD_OUT": f"fwd-out-{tag}",
        "TICK_SCHEDULE": "0 0 0 1 1 *",  # once a year: only runOnStartup fires
        "AzureSignalRConnectionString": f"Endpoint=http://127.0.0.1:9;AccessKey={SIGNALR_KEY};Version=1.0;",
    }


@pytest.fixture
def start_host(azurite: Azurite) -> Iterator[Callable[..., tuple[FunctionsHost, dict[str, str]]]]:
    running: list[BackgroundHost] = []

    def start(settings: dict[str, str] | None = None, **kwargs: Any) -> tuple[FunctionsHost, dict[str, str]]:
        values = {**_settings(azurite), **(settings or {})}
        background = BackgroundHost(FunctionsHost(str(SAMPLE / "function_app.py"), settings=values, port=0, **kwargs))
        running.append(background)
        return background.start(), values

    yield start
    for background in reversed(running):  # LIFO: each host restores the environment it found
        background.stop()


def queue(azurite: Azurite, name: str, base64_policy: bool = True) -> QueueClient:
    policy = TextBase64EncodePolicy() if base64_policy else None
    client = QueueClient.from_connection_string(azurite.connection_string, name, message_encode_policy=policy)
    with contextlib.suppress(ResourceExistsError):
        client.create_queue()
    return client


def events(host: FunctionsHost, kind: str) -> list[dict[str, Any]]:
    return host.module.events(kind)


# -- queue trigger ---------------------------------------------------------------------


def test_queue_trigger_receives_base64_messages_with_metadata(azurite, start_host) -> None:
    host, s = start_host()
    q = queue(azurite, s["RECORD_QUEUE"])
    before = time.time()
    sent = {q.send_message(text).id: text for text in ("hello", "wörld")}

    got = wait_for(lambda: len(events(host, "message")) == 2 and events(host, "message"), what="2 messages")
    assert {e["id"]: e["body"] for e in got} == sent
    for e in got:
        assert e["type"] == "azure.functions.queue.QueueMessage"
        assert e["dequeue_count"] == 1
        assert e["pop_receipt"]
        assert before - 5 < e["insertion_time"].timestamp() < time.time() + 5
        assert e["insertion_time"].tzinfo is not None and e["expiration_time"] > e["insertion_time"]
    wait_for(lambda: not list(q.peek_messages()), what="successful messages to be deleted")


def test_failing_function_is_retried_then_poisoned_with_original_body(azurite, start_host) -> None:
    host, s = start_host()
    queue(azurite, s["FAIL_QUEUE"]).send_message("bad input")
    poison = QueueClient.from_connection_string(azurite.connection_string, s["FAIL_QUEUE"] + "-poison")

    def poisoned() -> list[Any]:
        try:
            return list(poison.peek_messages(max_messages=32))
        except ResourceNotFoundError:
            return []

    messages = wait_for(poisoned, what="the poison queue message")
    assert [m.content for m in messages] == [base64.b64encode(b"bad input").decode()]
    time.sleep(1.0)  # maxPollingInterval is 0.5 s: a fourth attempt would show by now
    assert [e["dequeue_count"] for e in events(host, "failure")] == [1, 2, 3]  # host.json maxDequeueCount 3
    assert not list(QueueClient.from_connection_string(azurite.connection_string, s["FAIL_QUEUE"]).peek_messages())


def test_message_that_is_not_base64_fails_without_invoking_and_is_poisoned(azurite, start_host) -> None:
    host, s = start_host()
    queue(azurite, s["RECORD_QUEUE"], base64_policy=False).send_message("not base64 !")
    poison = QueueClient.from_connection_string(azurite.connection_string, s["RECORD_QUEUE"] + "-poison")
    wait_for(lambda: _peek(poison), what="the undecodable message in the poison queue")
    assert [m.content for m in poison.peek_messages()] == ["not base64 !"]
    assert events(host, "message") == []


def _peek(client: QueueClient) -> list[Any]:
    try:
        return list(client.peek_messages(max_messages=32))
    except ResourceNotFoundError:
        return []


def test_queue_output_and_message_encoding_none(azurite, start_host) -> None:
    _, s = start_host()
    queue(azurite, s["FORWARD_IN"]).send_message("shout")
    out = QueueClient.from_connection_string(azurite.connection_string, s["FORWARD_OUT"])
    assert [m.content for m in wait_for(lambda: _peek(out), what="forwarded message")] == [
        base64.b64encode(b"SHOUT").decode()
    ]

    raw_config = json.loads((SAMPLE / "host.json").read_text())
    raw_config["extensions"]["queues"]["messageEncoding"] = "none"
    _, s2 = start_host(host_json=raw_config)
    queue(azurite, s2["FORWARD_IN"], base64_policy=False).send_message("plain text")
    out2 = QueueClient.from_connection_string(azurite.connection_string, s2["FORWARD_OUT"])
    assert [m.content for m in wait_for(lambda: _peek(out2), what="raw forwarded message")] == ["PLAIN TEXT"]


def test_invocations_run_concurrently_within_batch_limits(azurite, start_host) -> None:
    host, s = start_host()
    q = queue(azurite, s["RECORD_QUEUE"])
    for _ in range(8):
        q.send_message("sleep:0.6")
    got = wait_for(lambda: len(events(host, "message")) == 8 and events(host, "message"), what="8 slow messages")
    spans = [(e["started"], e["at"]) for e in got]
    overlap = max(sum(1 for a, b in spans if a <= t < b) for t, _ in spans)
    assert 2 <= overlap <= 6  # batchSize 4 + newBatchThreshold 2
    assert max(b for _, b in spans) - min(a for a, _ in spans) < 0.6 * 8 * 0.75  # clearly not serial


def test_lease_is_renewed_while_a_slow_function_runs(azurite, start_host) -> None:
    host, s = start_host(message_lease=2.0)  # renewed every second
    q = queue(azurite, s["RECORD_QUEUE"])
    q.send_message("sleep:4")  # twice the lease: without renewal it would be delivered again at ~2 s
    wait_for(lambda: events(host, "message"), what="the slow message", timeout=15)
    wait_for(lambda: not _peek(q), what="the slow message to be deleted")
    time.sleep(0.6)  # longer than maxPollingInterval
    assert [e["dequeue_count"] for e in events(host, "started")] == [1]


def test_listener_survives_a_storage_restart(azurite, start_host) -> None:
    host, s = start_host()
    q = queue(azurite, s["RECORD_QUEUE"])
    q.send_message("before")
    wait_for(lambda: events(host, "message"), what="the first message")
    azurite.restart()  # the listener sees connection errors meanwhile and must keep polling
    q.send_message("after")
    wait_for(lambda: len(events(host, "message")) == 2, timeout=15, what="a message sent after the restart")
    assert [e["body"] for e in events(host, "message")] == ["before", "after"]


# -- HTTP trigger ----------------------------------------------------------------------


def test_http_routes_params_query_headers_and_methods(start_host) -> None:
    host, _ = start_host()
    with httpx.Client(base_url=host.api_url) as client:
        r = client.get("/items/42/blue", params={"q": "calls"}, headers={"x-test": "yes"})
        assert r.status_code == 200 and r.headers["x-item"] == "1"
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["type"] == "azure.functions.http.HttpRequest"
        assert (body["id"], body["label"], body["q"], body["header"], body["method"]) == (
            "42",
            "blue",
            "calls",
            "yes",
            "GET",
        )
        assert body["url"] == f"{host.api_url}/items/42/blue?q=calls"
        assert client.get("/items/7").json()["label"] is None  # optional segment
        assert client.get("/items/abc").status_code == 404  # {id:int}
        assert client.delete("/items/7").status_code == 404  # GET only: Azure says 404, not 405 (host#10098)
        assert client.get("/items/42/a%0Ab").json()["label"] == "a\nb"  # any decoded segment reaches the routes
        assert client.request("TRACE", "/items/7").status_code == 405  # no binding can name it
        created = client.post("/items", json={"strike": 5000})  # async function
        assert (created.status_code, created.json()) == (201, {"created": {"strike": 5000}})
        assert client.get("/crash").status_code == 500
        assert client.get("/nowhere").status_code == 404
    assert httpx.get(f"{host.base_url}/items/7").status_code == 404  # outside the route prefix


def test_http_connections_send_without_nagle(start_host) -> None:
    """Nagle on a keep-alive connection holds each response for the client's delayed ACK (~40 ms a request)."""
    host, _ = start_host()
    with httpx.Client(base_url=host.api_url) as client:
        assert client.get("/items/7").status_code == 200
        served = host._server.server_state.connections  # noqa: SLF001 - the server's own accepted connections
        sockets = [c.transport.get_extra_info("socket") for c in list(served)]
        assert sockets and all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets)


def test_function_auth_level_requires_the_key(start_host) -> None:
    host, _ = start_host(settings={"SPYGLASS_FUNCTION_KEY": "k-123"})
    assert host.function_key == "k-123"
    url = f"{host.api_url}/secure"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"x-functions-key": "wrong"}).status_code == 401
    assert httpx.get(url, params={"code": "wrong"}).status_code == 401
    ok = httpx.get(url, headers={"x-functions-key": "k-123"})
    assert (ok.status_code, ok.text) == (200, "secret")
    assert httpx.get(url, params={"code": "k-123"}).status_code == 200
    assert httpx.get(f"{host.api_url}/items/1").status_code == 200  # anonymous


def test_generated_key_when_none_is_configured(start_host, monkeypatch) -> None:
    monkeypatch.delenv("SPYGLASS_FUNCTION_KEY", raising=False)
    host, _ = start_host()
    assert host.function_key and len(host.function_key) >= 32
    assert httpx.get(f"{host.api_url}/secure", params={"code": host.function_key}).status_code == 200
    status = httpx.get(f"{host.base_url}/admin/host/status", headers={"x-functions-key": host.function_key})
    assert status.json()["state"] == "Running"


# -- timer trigger ---------------------------------------------------------------------


def test_timer_runs_on_startup(start_host) -> None:
    host, _ = start_host()
    ticks = wait_for(lambda: events(host, "tick"), what="the startup tick")
    assert ticks[0]["type"] == "azure.functions.timer.TimerRequest" and ticks[0]["past_due"] is False
    time.sleep(1.2)
    assert len(events(host, "tick")) == 1  # yearly schedule: nothing else fires


def test_timer_fires_on_ncrontab_schedule(start_host) -> None:
    host, _ = start_host(settings={"TICK_SCHEDULE": "*/1 * * * * *"})
    ticks = wait_for(lambda: len(events(host, "tick")) >= 4 and events(host, "tick"), timeout=8, what="4 ticks")
    scheduled = [t["at"] for t in ticks[1:4]]  # after the startup tick
    gaps = [b - a for a, b in itertools.pairwise(scheduled)]
    assert all(0.5 < g < 1.5 for g in gaps), gaps
    assert not any(t["past_due"] for t in ticks)


# -- SignalR bindings ------------------------------------------------------------------


class _FakeSignalR(ThreadingHTTPServer):
    """Records REST calls to `/api/v1/hubs/...` and answers 202, like the service."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                server.calls.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("authorization", ""),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def fake_signalr() -> Iterator[_FakeSignalR]:
    server = _FakeSignalR()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_signalr_output_posts_to_rest_api_with_valid_jwt(start_host, fake_signalr) -> None:
    conn = f"Endpoint={fake_signalr.endpoint};AccessKey={SIGNALR_KEY};Version=1.0;"
    host, _ = start_host(settings={"AzureSignalRConnectionString": conn})
    r = httpx.post(f"{host.api_url}/broadcast", json={"strike": 5000})
    assert r.status_code == 202
    assert [c["path"] for c in fake_signalr.calls] == ["/api/v1/hubs/radar", "/api/v1/hubs/radar/users/user-7"]
    assert fake_signalr.calls[0]["body"] == {"target": "anomaly", "arguments": [{"strike": 5000}]}
    assert fake_signalr.calls[1]["body"] == {"target": "notice", "arguments": ["for you"]}
    for call in fake_signalr.calls:
        scheme, token = call["auth"].split(" ", 1)
        assert scheme == "Bearer"
        url = fake_signalr.endpoint + call["path"]
        claims = jwt.decode(token, SIGNALR_KEY, algorithms=["HS256"], audience=url)
        assert claims["aud"] == url and claims["exp"] > time.time()
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, "another-key-of-sufficient-length-0123456789", algorithms=["HS256"], audience=url)


def test_signalr_output_failure_fails_the_invocation(start_host) -> None:
    host, _ = start_host()  # the connection string points at a closed port
    assert httpx.post(f"{host.api_url}/broadcast", json={}).status_code == 500


def test_signalr_connection_info_gives_verifiable_token(start_host) -> None:
    host, _ = start_host()
    r = httpx.post(f"{host.api_url}/negotiate", headers={"x-ms-client-principal-id": "trader-1"})
    info = r.json()
    assert info["url"] == "http://127.0.0.1:9/client/?hub=radar"
    claims = jwt.decode(info["accessToken"], SIGNALR_KEY, algorithms=["HS256"], audience=info["url"])
    assert claims["nameid"] == "trader-1" and claims["exp"] > time.time() + 600
    anonymous = httpx.post(f"{host.api_url}/negotiate").json()
    assert "nameid" not in jwt.decode(
        anonymous["accessToken"], SIGNALR_KEY, algorithms=["HS256"], audience=anonymous["url"]
    )


# -- startup validation and configuration ----------------------------------------------


def test_unsupported_binding_fails_startup_with_a_clear_message() -> None:
    with pytest.raises(UnsupportedBindingError, match=r"'on_blob'.*'blobTrigger'"):
        BackgroundHost(FunctionsHost(str(SAMPLE / "unsupported_app.py"), port=0)).start()


@pytest.mark.parametrize("missing", ["FAIL_QUEUE", "AzureWebJobsStorage", "AzureSignalRConnectionString"])
def test_missing_app_setting_fails_startup_and_is_named(azurite, missing: str, monkeypatch) -> None:
    settings = _settings(azurite)
    del settings[missing]
    monkeypatch.delenv(missing, raising=False)  # other test modules in this worker may have set it
    env_before = dict(os.environ)
    with pytest.raises(ConfigError, match=missing):
        BackgroundHost(FunctionsHost(str(SAMPLE / "function_app.py"), settings=settings, port=0)).start()
    assert dict(os.environ) == env_before  # exported settings are undone


def test_host_json_parsing() -> None:
    assert parse_timespan("00:00:30", "x") == 30 and parse_timespan("1.00:00:00.5", "x") == 86400.5
    config = HostConfig.from_json(
        {
            "version": "2.0",
            "extensions": {"http": {"routePrefix": ""}, "queues": {"batchSize": 8, "maxPollingInterval": "00:00:02"}},
        }
    )
    assert config.route_prefix == "" and config.queues.batch_size == 8 and config.queues.threshold == 4
    assert config.queues.max_polling_interval == 2 and config.queues.max_dequeue_count == 5
    assert HostConfig.from_json({}).queues.message_encoding == "base64"
    for bad in ({"batchSize": 33}, {"maxPollingInterval": 2000}, {"messageEncoding": "utf8"}, {"bogus": 1}):
        with pytest.raises(ConfigError):
            HostConfig.from_json({"extensions": {"queues": bad}})


def test_route_templates() -> None:
    item = RouteTemplate("items/{id:int:min(1)}")
    assert item.match("/items/5") == {"id": "5"} and item.match("/ITEMS/5") == {"id": "5"}
    assert item.match("/items/0") is None and item.match("/items/x") is None
    rest = RouteTemplate("files/{*path}")
    assert rest.match("/files/a/b.txt") == {"path": "a/b.txt"} and rest.match("/files") == {}
    assert RouteTemplate("days/{day=today}").match("/days") == {"day": "today"}
    ordered = sorted([RouteTemplate("items/{id}"), RouteTemplate("items/latest")], key=route_sort_key)
    assert ordered[0].template == "items/latest"


def test_cli_prints_urls_and_key_and_stops_on_sigterm(azurite) -> None:
    env = {**os.environ, **_settings(azurite), "SPYGLASS_FUNCTION_KEY": "cli-key"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.host", "--app", str(SAMPLE / "function_app.py"), "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: queue_module.Queue[str] = queue_module.Queue()  # drained by a thread: readline() could hang
    threading.Thread(target=lambda: [output.put(line) for line in proc.stdout or []], daemon=True).start()
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 30
        while not any(line.startswith("Function key:") for line in lines):
            try:
                lines.append(output.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue_module.Empty:
                pytest.fail(f"no banner in 30 s (exit code {proc.poll()}): {''.join(lines)}")
        banner = "".join(lines)
        assert "Functions host ready" in banner and "[function]" in banner
        assert "cli-key" in banner and "/api/items/{id:int}/{label?}" in banner
        base = next(line.split()[-1] for line in lines if line.startswith("Base URL:"))
        assert httpx.get(f"{base}/api/secure", params={"code": "cli-key"}).text == "secret"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
