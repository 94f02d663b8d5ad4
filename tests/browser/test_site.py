"""The committed site without a browser: vendored libraries, no HTML sinks, strings, calendar, config, SWA stand-in."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from datetime import date

import exchange_calendars as xc
import httpx
import pandas as pd
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.stack import REPO, free_port
from devstack.web import (
    SITE,
    StaticWebApp,
    WebServer,
    glob_matches,
    load_config,
    local_csp,
    route_matches,
)

JS = sorted((SITE / "js").glob("*.js"))
VENDORED = {  # static-web/vendor/<name> is a byte-for-byte copy of node_modules/<path> (npm run vendor)
    "uPlot.esm.js": "uplot/dist/uPlot.esm.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
    "uPlot.LICENSE": "uplot/LICENSE",
    "signalr.min.js": "@microsoft/signalr/dist/browser/signalr.min.js",
}


def test_vendored_libraries_are_the_locked_npm_files():
    lock = json.loads((REPO / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/uplot"]["version"] == "1.6.32"
    assert lock["node_modules/@microsoft/signalr"]["version"] == "10.0.11"
    for name, path in VENDORED.items():
        installed = REPO / "node_modules" / path
        assert (SITE / "vendor" / name).read_bytes() == installed.read_bytes(), f"run `npm run vendor` ({name})"
    assert {p.name for p in (SITE / "vendor").iterdir()} == set(VENDORED)


SINKS = re.compile(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                   r"setAttribute\(\s*[\"']on|\.on[a-z]+\s*=(?!=)")


@pytest.mark.parametrize("path", JS, ids=lambda p: p.name)
def test_no_html_sinks_in_the_dashboard_code(path):
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1) if SINKS.search(line)]
    assert hits == []


def test_the_sink_check_catches_what_it_looks_for():
    for bad in ("node.innerHTML = x", "el.outerHTML=y", "a.insertAdjacentHTML('beforeend', s)", "document.write(s)",
                "b.onclick = f"):
        assert SINKS.search(bad), bad
    assert not SINKS.search("node.textContent = x; if (a.onclick === b) {}")


def test_the_page_has_no_inline_script_style_or_handlers():
    html = (SITE / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.findall(r"\son\w+\s*=", html) == [] and " style=" not in html and "<style" not in html


def _dictionaries() -> dict[str, dict[str, str]]:
    source = (SITE / "js" / "i18n.js").read_text()
    block = source[source.index("const STRINGS = {"):source.index("export const LANGS")]
    out: dict[str, dict[str, str]] = {}
    for lang in ("en", "es"):
        body = re.search(rf"\n  {lang}: \{{(.*?)\n  \}},", block, re.DOTALL).group(1)
        out[lang] = dict(re.findall(r'"([\w.]+)": "((?:[^"\\]|\\.)*)"', body))
    return out


def test_every_string_exists_in_english_and_spanish():
    d = _dictionaries()
    assert len(d["en"]) > 100 and set(d["en"]) == set(d["es"])
    assert all(d["es"][k] for k in d["es"])
    used = set()
    for path in JS:
        used |= set(re.findall(r"\bt\(\s*\"([\w.]+)\"", path.read_text()))
    used |= set(re.findall(r'data-i18n(?:-label|-title)?="([\w.]+)"', (SITE / "index.html").read_text()))
    assert used - set(d["en"]) == set()
    templated = {k.rsplit(".", 1)[0] for k in d["en"]}  # t(`type.${...}`) and the like
    assert {"type", "severity", "quality", "right", "conn", "ev.data"} <= templated


def test_the_market_calendar_matches_exchange_calendars():
    source = (SITE / "js" / "calendar.js").read_text()
    lo, hi = re.search(r'RANGE = \["([\d-]+)", "([\d-]+)"\]', source).groups()
    holidays = set(re.findall(r'"(\d{4}-\d\d-\d\d)"', source[source.index("HOLIDAYS"):source.index("EARLY_CLOSES")]))
    early = dict(re.findall(r'"(\d{4}-\d\d-\d\d)": "(\d\d:\d\d)"', source))
    cal = xc.get_calendar("XNYS")
    sessions = cal.sessions_in_range(lo, hi)
    weekdays = {d.date().isoformat() for d in pd.bdate_range(lo, hi)}
    assert holidays == weekdays - {s.date().isoformat() for s in sessions}
    closes = {s.date().isoformat(): cal.session_close(s).tz_convert("America/New_York").strftime("%H:%M")
              for s in sessions}
    assert early == {d: c for d, c in closes.items() if c != "16:00"}
    assert date.fromisoformat(hi) >= date(2027, 1, 1)  # renew the list before it runs out


def test_the_market_session_in_the_browser_code():
    script = """
      import {session} from "./static-web/js/calendar.js";
      const at = (iso) => { const s = session(new Date(iso)); return [s.open, s.closes]; };
      console.log(JSON.stringify([at("2026-11-24T15:00:00Z"), at("2026-11-24T14:29:00Z"), at("2026-11-24T21:00:00Z"),
        at("2026-11-26T16:00:00Z"), at("2026-11-27T17:59:00Z"), at("2026-11-27T18:00:00Z"), at("2026-11-28T16:00:00Z"),
        at("2026-07-06T13:30:00Z")]));
    """
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == [[True, "16:00"], [False, "16:00"], [False, "16:00"],  # 10:00, 09:29, 16:00 New York
                               [False, "16:00"],  # Thanksgiving
                               [True, "13:00"], [False, "13:00"],  # the day after closes at 13:00
                               [False, "16:00"], [True, "16:00"]]  # Saturday; 09:30 in summer time (UTC-4)


def test_the_config_is_strict():
    config = load_config()
    csp = config["globalHeaders"]["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in csp and "*" not in directives["connect-src"].replace("*.service.signalr.net", "")
    api = next(r for r in config["routes"] if r["route"] == "/api/*")
    assert api["allowedRoles"] == ["trader"]
    assert config["navigationFallback"]["rewrite"] == "/index.html"


def test_routes_and_globs_as_swa_matches_them():
    assert route_matches("/api/*", "/api/anomalies") and route_matches("/api/*", "/api")
    assert not route_matches("/api/*", "/apis")
    assert glob_matches("/*.{json,png}", "/x.json") and glob_matches("/*.{json,png}", "/x.png")
    assert not glob_matches("/*.{json,png}", "/x.js")


def test_local_csp_points_connect_src_at_the_local_signalr_service():
    csp = load_config()["globalHeaders"]["Content-Security-Policy"]
    local = local_csp(csp, "http://127.0.0.1:5123")
    assert "connect-src 'self' http://127.0.0.1:5123 ws://127.0.0.1:5123;" in local
    assert "signalr.net" not in local and local.replace("connect-src 'self' http://127.0.0.1:5123 ws://127.0.0.1:5123", "") \
        == csp.replace("connect-src 'self' https://*.service.signalr.net wss://*.service.signalr.net", "")


def test_without_the_role_the_site_and_the_api_send_you_to_sign_in():
    server = WebServer(StaticWebApp("http://127.0.0.1:9/api", "unused", roles=("anonymous", "authenticated"))).start()
    try:
        with httpx.Client(base_url=server.url, follow_redirects=False, timeout=10) as client:
            for path in ("/", "/api/anomalies"):
                r = client.get(path)
                assert r.status_code == 302 and r.headers["location"].startswith("/.auth/login/aad"), path
            assert client.get("/api/health").status_code == 502  # anonymous is allowed; no backend on port 9
            assert client.get("/.auth/login/github").status_code == 404
            assert client.get("/.auth/login/aad").status_code == 200  # signing in stays reachable: no redirect loop
    finally:
        server.stop()


def _raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    """One request with the target exactly as given (an HTTP client would normalise or refuse it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


@pytest.fixture(scope="module")
def echo_backend():
    """A stand-in Functions host that answers with the path and query it was asked for."""
    async def echo(request):
        return JSONResponse({"path": request.scope["raw_path"].decode(), "query": request.url.query,
                             "key": request.headers.get("x-functions-key")})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/{p:path}", echo)]), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/api"
    server.should_exit = True
    thread.join(10)


BAD_URLS = [  # target, status: http.sys / IIS request filtering defaults, never a 500 or a traceback
    (b"/%00", 400), (b"/a%00b.js", 400), (b"/api/%00", 400), (b"/api/anomalies/%01", 400), (b"/%7f", 400),
    (b"/%0d%0aSet-Cookie:%20x", 400), (b"/%c2%85", 400),  # CR LF; NEL, a C1 control
    (b"/%ff", 400), (b"/%", 400), (b"/%zz", 400), (b"/..", 400), (b"/%2e%2e/%2e%2e/etc/passwd", 400),
    (b"/js/../../etc/passwd", 400), (b"/api/../../x", 400), (b"/" + b"a" * 261, 400),
    (b"/" + b"a/" * 2100, 404), (b"/index.html?" + b"q" * 2049, 404),
]


@pytest.mark.parametrize(("target", "status"), BAD_URLS, ids=lambda v: repr(v)[:40])
def test_bad_urls_are_refused_as_the_front_end_refuses_them(echo_backend, target, status):
    server = WebServer(StaticWebApp(echo_backend, "the-key")).start()
    try:
        got, body = _raw_get(server.port, target)
        assert (got, len(body) < 200, b"Traceback" in body) == (status, True, False), body[:200]
        assert _raw_get(server.port, b"/")[0] == 200  # still serving
    finally:
        server.stop()


def test_dot_segments_inside_the_site_are_resolved_and_the_api_path_is_escaped_again(echo_backend):
    server = WebServer(StaticWebApp(echo_backend, "the-key")).start()
    try:
        status, body = _raw_get(server.port, b"/js/../index.html")
        assert status == 200 and b"<!doctype html>" in body
        assert _raw_get(server.port, b"/" + b"a" * 258)[0] == 200  # too long for the file system: the fallback
        status, body = _raw_get(server.port, b"/api/x/../anomalies%3Fsecret?type=%00&code=mine")
        echoed = json.loads(body)
        assert status == 200 and echoed["path"] == "/api/anomalies%3Fsecret" and echoed["key"] == "the-key"
        assert echoed["query"] == "type=%00"  # the query is the API's to judge; the browser's code is dropped
    finally:
        server.stop()


def test_the_incident_reading_in_the_browser_code_takes_malformed_records_in_its_stride():
    script = """
      import {covers, facetsOf, isChainLevel, typesOf, VIEWS} from "./static-web/js/incident.js";
      const incident = {id: "i", type: "mispricing", right: "C", strike: 602, ts: "2026-11-24T17:00:10.000Z",
        facets: [{type: "parity"}, {type: "iv_jump"}, null, "junk", {rule: "no type"}]};
      const earlier = {id: "e", type: "iv_jump", right: "C", strike: 602, ts: "2026-11-24T17:00:09.000Z"};
      const later = {...earlier, id: "l", ts: "2026-11-24T17:00:11.000Z"};
      const elsewhere = {...earlier, id: "x", strike: 603};
      const volume = {...earlier, id: "v", type: "volume_spike"};
      const chain = {id: "c", type: "data_error", right: null, strike: null, ts: earlier.ts};
      console.log(JSON.stringify([
        typesOf(incident), facetsOf({facets: "nope"}), typesOf({type: "parity", facets: {0: 1}}),
        [covers(incident, earlier), covers(incident, later), covers(incident, elsewhere), covers(incident, volume),
         covers(earlier, incident), covers(incident, incident)],
        [isChainLevel(chain), isChainLevel(incident), isChainLevel({strike: "602"})],
        [VIEWS.market(incident), VIEWS.data(incident), VIEWS.market(chain), VIEWS.data(chain)]]));
    """
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == [
        ["mispricing", "parity", "iv_jump"], [], ["parity"],
        [True, False, False, False, False, False],  # an incident stands for an older face of itself on its contract
        [True, False, True],
        [True, False, False, True]]  # data errors are a view of their own


IDLE_CLOSE_S = 2.0  # the backend's keep-alive timeout here (uvicorn's is 5 s); the proxy must give up first


@pytest.fixture
def closing_backend():
    """A backend with a keep-alive timeout whose race always goes the bad way: a request arriving on a connection
    idle for longer than ``IDLE_CLOSE_S`` finds it closed without an answer, as when the backend's timer fires
    just as the proxy reuses the connection."""
    listener = socket.create_server(("127.0.0.1", 0))

    def keep_alive(conn: socket.socket) -> None:
        with conn:
            answered = None
            while True:
                head = b""
                while b"\r\n\r\n" not in head and (chunk := conn.recv(65536)):
                    head += chunk
                if not head or (answered is not None and time.monotonic() - answered > IDLE_CLOSE_S):
                    return  # closed unanswered
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                answered = time.monotonic()

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=keep_alive, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    listener.close()


def test_the_proxy_never_sends_on_a_connection_the_backend_may_be_closing(closing_backend):
    """The 502 flake's cause: the proxy's pool kept idle connections as long as the backend did."""
    server = WebServer(StaticWebApp(closing_backend, "the-key")).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client:
            assert [client.get("/api/anomalies").status_code for _ in range(3)] == [200] * 3  # on a fresh connection
            time.sleep(IDLE_CLOSE_S + 0.5)
            assert client.get("/api/anomalies").status_code == 200  # a new connection, not the stale one
    finally:
        server.stop()
