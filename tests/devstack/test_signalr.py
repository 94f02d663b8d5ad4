"""The local SignalR service against the real @microsoft/signalr client and raw WebSockets.

Everything is loopback on free ports; each test uses its own hub name, so tests share a
module-scoped service safely and run in parallel (pytest -n 2).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from devstack.signalr import (
    LocalSignalR,
    SignalRSendError,
    group_action,
    negotiate_info,
    new_access_key,
    new_connection_string,
    parse_connection_string,
    rest_token,
    rest_url,
    send,
    send_async,
    send_binding,
    send_binding_async,
)

ROOT = Path(__file__).resolve().parents[2]
CLIENT_JS = Path(__file__).with_name("signalr_client.cjs")
HANDSHAKE = '{"protocol":"json","version":1}\x1e'


# --- fixtures and helpers -------------------------------------------------------------------
@pytest.fixture(scope="module")
def svc() -> Iterator[LocalSignalR]:
    with LocalSignalR() as service:
        yield service


@pytest.fixture
def hub(request: pytest.FixtureRequest) -> str:
    """A hub name of this test's own (valid: letters, digits, underscores)."""
    return "h_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:100]


def negotiate_url(client_url: str) -> str:
    return client_url.replace("/client/?", "/client/negotiate?") + "&negotiateVersion=1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class RawClient:
    """A hand-driven client: negotiate, WebSocket, JSON hub protocol handshake."""

    def __init__(self, info: dict[str, str], handshake: bool = True) -> None:
        neg = httpx.post(negotiate_url(info["url"]), headers=bearer(info["accessToken"]))
        assert neg.status_code == 200, neg.text
        self.negotiate = neg.json()
        self.connection_id = self.negotiate["connectionId"]
        url = info["url"].replace("http", "ws", 1) + "&id=" + self.negotiate["connectionToken"]
        self._stack = ExitStack()
        self.ws = self._stack.enter_context(connect(url, additional_headers=bearer(info["accessToken"])))
        self._pending: list[str] = []
        self._buffer = ""
        if handshake:
            self.ws.send(HANDSHAKE)
            assert self.record() == {}

    def record(self, timeout: float = 5.0) -> Any:
        """Next record (any type)."""
        while not self._pending:
            frame = self.ws.recv(timeout=timeout)
            *records, self._buffer = (self._buffer + str(frame)).split("\x1e")
            self._pending.extend(records)
        return json.loads(self._pending.pop(0))

    def message(self, timeout: float = 5.0) -> dict[str, Any]:
        """Next non-ping record."""
        while (msg := self.record(timeout))["type"] == 6:
            pass
        return msg

    def close(self) -> None:
        self._stack.close()


class NodeClient:
    """tests/devstack/signalr_client.cjs (the real @microsoft/signalr) in a subprocess."""

    def __init__(self, config: dict[str, Any]) -> None:
        node = shutil.which("node")
        if node is None or not (ROOT / "node_modules/@microsoft/signalr").is_dir():
            pytest.fail("node and node_modules/@microsoft/signalr are required: run `make setup`")
        self.proc = subprocess.Popen([node, str(CLIENT_JS), json.dumps(config)], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr or []), daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout or []:
            self.events.put(json.loads(line))

    def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching event; seen {self.seen}; stderr {''.join(self.stderr)}") from None
            self.seen.append(event)
            if pred(event):
                return event

    def event(self, name: str, timeout: float = 10.0) -> dict[str, Any]:
        return self.wait(lambda e: e["event"] == name, timeout)

    def message(self, timeout: float = 10.0) -> dict[str, Any]:
        """Next received invocation; fails on any other event in between."""
        event = self.wait(lambda e: True, timeout)
        assert event["event"] == "message", event
        return event

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"cmd":"stop"}\n')  # type: ignore[union-attr]
                self.proc.stdin.flush()  # type: ignore[union-attr]
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.fixture
def node() -> Iterator[Callable[..., NodeClient]]:
    clients: list[NodeClient] = []

    def start(url: str, token: str | None = None, targets: tuple[str, ...] = ("msg",)) -> NodeClient:
        client = NodeClient({"url": url, "token": token, "targets": list(targets)})
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


@pytest.fixture
def raw() -> Iterator[Callable[..., RawClient]]:
    clients: list[RawClient] = []

    def start(info: dict[str, str], handshake: bool = True) -> RawClient:
        clients.append(RawClient(info, handshake))
        return clients[-1]

    yield start
    for client in clients:
        client.close()


@contextmanager
def functions_negotiate(conn: str, hub: str, user_id: str | None = None) -> Iterator[str]:
    """A stand-in Functions app: `POST /api/negotiate` returns the signalRConnectionInfo."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/api/negotiate":
                self.send_error(404)
                return
            body = json.dumps(negotiate_info(conn, hub, user_id)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


# --- connection strings and tokens ------------------------------------------------------------
def test_parse_connection_string() -> None:
    conn = parse_connection_string("endpoint=http://127.0.0.1:1234/;accesskey=a=b=;Version=1.0;")
    assert (conn.endpoint, conn.client_endpoint, conn.access_key) == ("http://127.0.0.1:1234", "http://127.0.0.1:1234", "a=b=")
    conn = parse_connection_string("Endpoint=https://x.service.signalr.net;AccessKey=k;Port=8443;"
                                   "ClientEndpoint=https://edge.example;Version=1.0")
    assert conn.endpoint == "https://x.service.signalr.net:8443"
    assert conn.client_url("Chat") == "https://edge.example/client/?hub=Chat"
    for bad in ("AccessKey=k;", "Endpoint=http://h;", "Endpoint=ftp://h;AccessKey=k",
                "Endpoint=http://h;AccessKey=k;Version=2.0", "Endpoint=http://h;AuthType=azure.msi;AccessKey=k"):
        with pytest.raises(ValueError):
            parse_connection_string(bad)
    first, second = new_connection_string(5), new_connection_string(5)
    assert first != second and parse_connection_string(first).endpoint == "http://127.0.0.1:5"


def test_tokens_and_urls() -> None:
    cs = new_connection_string(7000)
    key = parse_connection_string(cs).access_key
    info = negotiate_info(cs, "chat", user_id="alice", ttl=60)
    assert info["url"] == "http://127.0.0.1:7000/client/?hub=chat"
    claims = jwt.decode(info["accessToken"], key.encode(), algorithms=["HS256"], audience=info["url"])
    assert claims["nameid"] == "alice" and 55 <= claims["exp"] - time.time() <= 61
    assert "nameid" not in jwt.decode(negotiate_info(cs, "chat")["accessToken"], options={"verify_signature": False})
    url = rest_url(cs, "chat", user_id="a b/c")
    assert url == "http://127.0.0.1:7000/api/v1/hubs/chat/users/a%20b%2Fc"
    aud = jwt.decode(rest_token(cs, url + "?x=1"), key.encode(), algorithms=["HS256"], audience=url)["aud"]
    assert aud == url
    with pytest.raises(ValueError):
        rest_url(cs, "chat", user_id="u", group="g")


# --- the real JS client -----------------------------------------------------------------------
def test_real_client_receives_broadcasts(svc: LocalSignalR, hub: str, node: Callable[..., NodeClient]) -> None:
    info = negotiate_info(svc.connection_string, hub)
    client = node(info["url"], info["accessToken"], targets=("msg", "other"))
    started = client.event("started")
    assert [c["connectionId"] for c in svc.connections(hub)] == [started["connectionId"]]
    listed = httpx.get(f"{svc.endpoint}/devstack/connections", params={"hub": hub}).json()
    assert [c["connectionId"] for c in listed] == [started["connectionId"]]
    send(svc.connection_string, hub, "msg", [1, "two", {"three": [3.5, None, True]}, "é✓"])

    async def publish_async() -> None:
        async with httpx.AsyncClient() as http:
            await send_async(svc.connection, hub, "other", [], client=http)
            assert await send_binding_async(svc.connection_string, hub, '[{"target": "msg"}]', client=http) == 1

    asyncio.run(publish_async())
    send_binding(svc.connection_string, hub, json.dumps({"Target": "msg", "Arguments": ["bound"]}))
    assert client.message()["arguments"] == [1, "two", {"three": [3.5, None, True]}, "é✓"]
    assert client.message() == {"event": "message", "target": "other", "arguments": []}
    assert client.message() == {"event": "message", "target": "msg", "arguments": []}
    assert client.message()["arguments"] == ["bound"]


def test_functions_negotiate_redirect_and_users(svc: LocalSignalR, hub: str, node: Callable[..., NodeClient]) -> None:
    cs = svc.connection_string
    with functions_negotiate(cs, hub, user_id="alice") as api:
        alice = node(api)
        alice.event("started")
        assert [c["userId"] for c in svc.connections(hub)] == ["alice"]
        send(cs, hub, "msg", ["to bob"], user_id="bob")
        send(cs, hub, "msg", ["to alice"], user_id="alice")
        assert alice.message()["arguments"] == ["to alice"]


def test_client_invocation_is_refused_in_serverless_mode(svc: LocalSignalR, hub: str,
                                                         node: Callable[..., NodeClient]) -> None:
    info = negotiate_info(svc.connection_string, hub)
    client = node(info["url"], info["accessToken"])
    client.event("started")
    client.proc.stdin.write('{"cmd":"invoke","target":"echo","arguments":[1]}\n')  # type: ignore[union-attr]
    client.proc.stdin.flush()  # type: ignore[union-attr]
    closed = client.event("closed")
    assert "serverless" in closed["error"]
    assert client.event("invoke_failed")["error"]
    wait_until(lambda: not svc.connections(hub))


def test_real_client_rejected_with_bad_token(svc: LocalSignalR, hub: str, node: Callable[..., NodeClient]) -> None:
    bad = negotiate_info(new_connection_string(svc.port), hub)  # right URL, wrong key
    failed = node(bad["url"], bad["accessToken"]).event("start_failed")
    assert "401" in failed["error"]
    assert svc.connections(hub) == []


def test_survives_client_disconnects(svc: LocalSignalR, hub: str, node: Callable[..., NodeClient]) -> None:
    info = negotiate_info(svc.connection_string, hub)
    stays, polite, crash = (node(info["url"], info["accessToken"]) for _ in range(3))
    for client in (stays, polite, crash):
        client.event("started")
    wait_until(lambda: len(svc.connections(hub)) == 3)
    polite.close()
    crash.proc.kill()
    wait_until(lambda: len(svc.connections(hub)) == 1)
    send(svc.connection_string, hub, "msg", ["still here"])
    assert stays.message()["arguments"] == ["still here"]


def test_reconnects_after_service_restart(hub: str, node: Callable[..., NodeClient]) -> None:
    first = LocalSignalR().start()
    try:
        cs = first.connection_string
        with functions_negotiate(cs, hub, user_id="dash") as api:
            client = node(api)  # default withAutomaticReconnect(): retries at 0, 2, 10, 30 s
            client.event("started")
            send(cs, hub, "msg", ["before"])
            assert client.message()["arguments"] == ["before"]
            first.stop()
            client.event("reconnecting")
            second = LocalSignalR(port=first.port, access_key=first.access_key).start()
            try:
                client.event("reconnected", timeout=15)
                assert [c["userId"] for c in second.connections(hub)] == ["dash"]
                send(cs, hub, "msg", ["after"])
                assert client.message()["arguments"] == ["after"]
            finally:
                second.stop()
    finally:
        first.stop()


# --- targeting and REST -----------------------------------------------------------------------
def test_users_groups_and_connections(svc: LocalSignalR, hub: str, raw: Callable[..., RawClient]) -> None:
    cs = svc.connection_string
    alice, bob, anon = raw(negotiate_info(cs, hub, "alice")), raw(negotiate_info(cs, hub, "bob")), raw(negotiate_info(cs, hub))
    group_action(cs, hub, "g1", "add", connection_id=anon.connection_id)
    send_binding(cs, hub, {"action": "add", "groupName": "g2", "userId": "bob"})
    send(cs, hub, "m", ["g1"], group="g1")
    send(cs, hub, "m", ["g2"], group="g2")
    send(cs, hub, "m", ["bob"], user_id="bob")
    send(cs, hub, "m", ["conn"], connection_id=alice.connection_id)
    send(cs, hub, "m", ["all but alice"], excluded=[alice.connection_id])
    group_action(cs, hub, "g1", "remove", connection_id=anon.connection_id)
    send_binding(cs, hub, [{"action": "removeAll", "userId": "bob"}, {"target": "m", "arguments": ["g2 again"], "groupName": "g2"}])
    send(cs, hub, "m", ["g1 again"], group="g1")
    send(cs, hub, "m", ["end"])
    received = {}
    for name, client in (("alice", alice), ("bob", bob), ("anon", anon)):
        got = []
        while not got or got[-1] != "end":
            got.append(client.message()["arguments"][0])
        received[name] = got
    assert received == {"alice": ["conn", "end"], "bob": ["g2", "bob", "all but alice", "end"],
                        "anon": ["g1", "all but alice", "end"]}
    with httpx.Client() as http:
        def status(method: str, url: str) -> int:
            return http.request(method, url, headers=bearer(rest_token(cs, url))).status_code

        assert status("GET", rest_url(cs, hub, connection_id=alice.connection_id)) == 200
        assert status("GET", rest_url(cs, hub, connection_id="nope")) == 404
        assert status("HEAD", rest_url(cs, hub, user_id="bob")) == 200
        assert status("GET", rest_url(cs, hub, group="g1")) == 404
        assert status("PUT", rest_url(cs, hub, group="g1") + "/connections/nope") == 404
        assert status("DELETE", rest_url(cs, hub, connection_id=bob.connection_id)) == 202
    assert bob.message() == {"type": 7}
    wait_until(lambda: len(svc.connections(hub)) == 2)


def _expired(cs: str, url: str) -> str:
    return rest_token(cs, url, ttl=-5)


REJECTED_TOKENS: dict[str, Callable[[str, str], str | None]] = {
    "no token": lambda cs, url: None,
    "wrong key": lambda cs, url: rest_token(new_connection_string(1), url),
    "wrong aud": lambda cs, url: rest_token(cs, url.rsplit("/", 1)[0] + "/other"),
    "client aud": lambda cs, url: negotiate_info(cs, url.rsplit("/", 1)[1])["accessToken"],
    "expired": _expired,
    "no exp": lambda cs, url: jwt.encode({"aud": url}, parse_connection_string(cs).access_key.encode()),
    "alg none": lambda cs, url: jwt.encode({"aud": url, "exp": time.time() + 60}, None, algorithm="none"),
}


@pytest.mark.parametrize("case", sorted(REJECTED_TOKENS))
def test_rest_rejects_bad_tokens(svc: LocalSignalR, hub: str, raw: Callable[..., RawClient], case: str) -> None:
    cs = svc.connection_string
    client = raw(negotiate_info(cs, hub))
    url = rest_url(cs, hub)
    token = REJECTED_TOKENS[case](cs, url)
    headers = bearer(token) if token else {}
    response = httpx.post(url, json={"target": "m", "arguments": ["leak"]}, headers=headers)
    assert response.status_code == 401, response.text
    send(cs, hub, "m", ["marker"])
    assert client.message()["arguments"] == ["marker"]


def test_rest_errors(svc: LocalSignalR, hub: str) -> None:
    cs = svc.connection_string
    with pytest.raises(SignalRSendError) as err:
        send(new_connection_string(svc.port), hub, "m", [])
    assert err.value.status == 401
    with pytest.raises(SignalRSendError) as err:
        send(cs, "1bad-hub", "m", [])
    assert err.value.status == 400
    url = rest_url(cs, hub)
    for body in (b"not json", b"[1]", b'{"arguments": []}', b'{"target": "m", "arguments": 1}', b'{"target":"m","arguments":[NaN]}'):
        response = httpx.post(url, content=body, headers=bearer(rest_token(cs, url)))
        assert response.status_code == 400, body
    assert httpx.get(f"{svc.endpoint}/api/v1/health").status_code == 200


# --- negotiate, WebSocket and hub protocol ----------------------------------------------------
@pytest.mark.parametrize("case", ["none", "wrong key", "other hub", "expired", "rest aud"])
def test_negotiate_rejects_bad_tokens(svc: LocalSignalR, hub: str, case: str) -> None:
    cs = svc.connection_string
    url = parse_connection_string(cs).client_url(hub)
    token = {
        "none": None,
        "wrong key": negotiate_info(new_connection_string(svc.port), hub)["accessToken"],
        "other hub": negotiate_info(cs, hub + "x")["accessToken"],
        "expired": negotiate_info(cs, hub, ttl=-5)["accessToken"],
        "rest aud": rest_token(cs, rest_url(cs, hub)),
    }[case]
    response = httpx.post(negotiate_url(url), headers=bearer(token) if token else {})
    assert response.status_code == 401


def test_websocket_rejects_bad_tokens_and_ids(svc: LocalSignalR, hub: str) -> None:
    cs = svc.connection_string
    info = negotiate_info(cs, hub)
    token = httpx.post(negotiate_url(info["url"]), headers=bearer(info["accessToken"])).json()["connectionToken"]
    ws_url = info["url"].replace("http", "ws", 1) + "&id=" + token
    wrong = negotiate_info(new_connection_string(svc.port), hub)["accessToken"]
    for url, status in ((ws_url, 401), (ws_url + "&access_token=" + wrong, 401),
                        (info["url"].replace("http", "ws", 1) + "&id=unknown&access_token=" + info["accessToken"], 404)):
        with pytest.raises(InvalidStatus) as err, connect(url):
            pass
        assert err.value.response.status_code == status
    with connect(ws_url + "&access_token=" + info["accessToken"]) as ws:  # browser style: token in query
        ws.send(HANDSHAKE)
        assert ws.recv(timeout=5) == "{}\x1e"
    with pytest.raises(InvalidStatus) as err, connect(ws_url + "&access_token=" + info["accessToken"]):
        pass  # a connection token is good for one connection only
    assert err.value.response.status_code == 404


def test_browser_cors(svc: LocalSignalR, hub: str) -> None:
    """A page on another origin (the dashboard) may negotiate with credentials."""
    info = negotiate_info(svc.connection_string, hub)
    origin = {"Origin": "http://127.0.0.1:7071"}
    preflight = httpx.options(negotiate_url(info["url"]), headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-signalr-user-agent,x-requested-with"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin["Origin"]
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-signalr-user-agent" in preflight.headers["access-control-allow-headers"].lower()
    response = httpx.post(negotiate_url(info["url"]), headers={**origin, **bearer(info["accessToken"])})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin["Origin"]


def test_negotiate_version_0(svc: LocalSignalR, hub: str) -> None:
    info = negotiate_info(svc.connection_string, hub)
    body = httpx.post(info["url"].replace("/client/?", "/client/negotiate?"), headers=bearer(info["accessToken"])).json()
    assert body["negotiateVersion"] == 0 and "connectionToken" not in body
    url = info["url"].replace("http", "ws", 1) + "&id=" + body["connectionId"]
    with connect(url, additional_headers=bearer(info["accessToken"])) as ws:
        ws.send(HANDSHAKE)
        assert ws.recv(timeout=5) == "{}\x1e"
        wait_until(lambda: [c["connectionId"] for c in svc.connections(hub)] == [body["connectionId"]])


@pytest.mark.parametrize("request_, error", [
    ('{"protocol":"messagepack","version":1}', "The protocol 'messagepack' is not supported."),
    ('{"protocol":"json","version":2}', "The server does not support version 2 of the 'json' protocol."),
    ('{"protocol":"json"}', "Handshake request must contain a string 'protocol' and an integer 'version'."),
])
def test_handshake_errors(svc: LocalSignalR, hub: str, raw: Callable[..., RawClient], request_: str, error: str) -> None:
    client = raw(negotiate_info(svc.connection_string, hub), handshake=False)
    client.ws.send(request_ + "\x1e")
    assert client.record() == {"error": error}
    assert svc.connections(hub) == []


def test_pings_timeouts_and_graceful_shutdown(hub: str, raw: Callable[..., RawClient]) -> None:
    with LocalSignalR(keep_alive=0.1, client_timeout=0.6) as fast:
        info = negotiate_info(fast.connection_string, hub)
        pinging, silent = raw(info), raw(info)
        assert pinging.record(timeout=2) == {"type": 6}
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:  # a client that pings stays connected
            pinging.ws.send('{"type":6}\x1e')
            assert pinging.record(timeout=2)["type"] == 6
        while (msg := silent.record(timeout=2))["type"] == 6:
            pass
        assert msg["type"] == 7 and "timeout" in msg["error"].lower() and "allowReconnect" not in msg
        wait_until(lambda: len(fast.connections(hub)) == 1)
    assert pinging.message() == {"type": 7, "error": "Service is shutting down.", "allowReconnect": True}


def test_cli_runs_and_stops_gracefully(hub: str, raw: Callable[..., RawClient]) -> None:
    key = new_access_key()
    env = {**os.environ, "AzureSignalRConnectionString": new_connection_string(1, access_key=key)}
    proc = subprocess.Popen([sys.executable, "-m", "devstack.signalr", "--port", "0", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        name, _, cs = line.strip().partition("=")
        assert name == "AzureSignalRConnectionString", line
        conn = parse_connection_string(cs)
        assert conn.access_key == key and conn.endpoint != "http://127.0.0.1:1"
        assert httpx.get(conn.endpoint + "/api/v1/health").status_code == 200
        client = raw(negotiate_info(cs, hub))
        send(cs, hub, "m", [1])
        assert client.message()["arguments"] == [1]
        proc.send_signal(signal.SIGTERM)
        assert client.message() == {"type": 7, "error": "Service is shutting down.", "allowReconnect": True}
        # uvicorn re-raises the signal after its graceful shutdown
        assert proc.wait(10) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
