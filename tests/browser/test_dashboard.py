"""The dashboard in real headless Chromium against the real local stack, served by the local Static Web App.

One stack and one browser for the module; each test gets a fresh browser context (its own
localStorage). Snapshots go in through the queue exactly as the edge sends them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import httpx
import pytest

from devstack.signalr import send
from devstack.proc import REPO
from devstack.stack import LocalStack
from tests.browser.kit import Session, dataset, enqueue, iso, later, wait
from tests.spyglass.chainkit import T0

pytestmark = pytest.mark.xdist_group("browser")  # one stack and one Chromium, on one worker
SHOTS = REPO / "out" / "screenshots"
LIVE = "() => document.querySelector('#conn').dataset.state === 'live'"
SESSION = Session(T0)
FIRST_TS = iso(later(T0, 15))


@pytest.fixture(scope="module")
def stack():
    with LocalStack(web=True, clock_start=iso(later(T0, 3 * 3600))) as s:  # the app's clock: after the test data
        yield s


@pytest.fixture
def page(stack, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.problems = []  # console errors, page errors and CSP violations seen while the test ran
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(stack.web_url)
    wait(page, LIVE, timeout=60)  # generous: on a fresh clone the first negotiate may queue behind cold compiles
    yield page
    context.close()


@pytest.fixture(scope="module")
def fed(stack):
    """The first session fed through the queue, once, for the tests that need data, and stored before they look:
    a fresh clone's host compiles its kernels on the first snapshots it scores (numba's cache is empty), which on a
    busy two-core machine takes longer than any page should be asked to wait for."""
    sent = enqueue(stack, SESSION.take(16, strike=602, onset=10))  # C 602 quoted 12 cents high from second 10
    key = {"x-functions-key": stack.function_key}
    stored = wait_api(lambda: httpx.get(f"{stack.api}/chain/latest", headers=key, timeout=5).json().get("ts")
                      == sent[-1]["ts"], timeout=300)
    assert stored, "the fed session was not stored within 5 minutes"
    return sent


def loaded(page, ts: str = FIRST_TS) -> None:
    """Wait until the smile shows the snapshot at ``ts`` or a newer one (ISO times sort as text)."""
    wait(page, "(ts) => (document.querySelector('#smile-chart').dataset.ts || '') >= ts", ts, timeout=45)


def test_page_loads_with_no_console_errors(page):
    assert page.locator("#conn-text").text_content() == "Live"
    for view in ("#smile-chart canvas", "#day-chart canvas", "#gex-chart canvas", "#feed-list", "#kpis .kpi"):
        assert page.locator(view).count() >= 1, view
    assert page.locator("#market-text").text_content() in ("Open until 16:00", "Open until 13:00", "Closed")
    page.wait_for_timeout(300)  # let late resource errors surface
    assert page.problems == []


def test_enqueued_snapshot_shows_in_the_smile_and_the_anomaly_in_the_feed(page, fed):
    loaded(page)
    smile = dataset(page, "#smile-chart")
    assert int(smile["points"]) > 40  # one point per strike with a quote
    mispricing = page.locator("#feed-list li[data-type='mispricing']")
    mispricing.first.wait_for(timeout=20_000)
    text = mispricing.first.text_content()
    assert "Call 602" in text and "NEW" in text and "fitted smile" in text and "edge $" in text
    assert mispricing.first.locator(".facet").count() == 3  # the incident as SignalR carried it, facets and all
    assert page.locator("#smile-anomalies .chip", has_text="Mispricing · Call 602").count() >= 1
    assert page.locator("#kpi-atm dd").text_content().endswith("%")
    assert page.problems == []


def test_clicking_an_anomaly_draws_its_snapshot_with_the_anomaly_marked(page, fed):
    loaded(page)
    entry = page.locator("#feed-list li[data-type='mispricing']").first
    entry.wait_for(timeout=20_000)
    anomaly_ts = page.evaluate("(id) => window.spyglass.store.anomalies.get(id).ts", entry.get_attribute("data-id"))
    entry.locator("button").focus()
    page.keyboard.press("Enter")  # keyboard works as well as a click
    wait(page, "(ts) => document.querySelector('#smile-chart').dataset.ts === ts", anomaly_ts)
    assert anomaly_ts < FIRST_TS  # a past snapshot, not the live one
    assert page.locator("#smile-caption").text_content().startswith("Snapshot")
    assert page.locator("#smile-anomalies .chip[aria-pressed='true']").text_content() == "Mispricing · Call 602"
    page.click("#smile-back")
    loaded(page)
    page.locator("#smile-chart canvas").wait_for()
    assert page.problems == []


def test_the_smile_rings_the_incident_once_and_the_ring_is_clickable(page, fed, stack):
    loaded(page)
    entry = page.locator("#feed-list li[data-type='mispricing']").first
    entry.wait_for(timeout=20_000)
    incident = page.evaluate("(id) => window.spyglass.store.anomalies.get(id)", entry.get_attribute("data-id"))
    earlier = {**incident, "id": secrets.token_hex(12), "type": "iv_jump", "ts": iso(later(T0, 9)), "edge": None}
    del earlier["facets"]  # one face seen alone a second before the incident that now stands for it
    send(stack.signalr_connection, "spyglass", "anomaly", [earlier])
    page.locator(f"#feed-list li[data-id='{earlier['id']}']").wait_for(timeout=10_000)
    wait(page, "() => window.spyglass.smileMarkers().length > 0")
    rings = page.evaluate("() => window.spyglass.smileMarkers()")
    assert [r["id"] for r in rings] == [incident["id"]]  # four faces of one event: one ring
    box = page.locator("#smile-chart .u-over").bounding_box()
    page.mouse.click(box["x"] + rings[0]["x"], box["y"] + rings[0]["y"])
    wait(page, "(id) => document.querySelector('#smile-anomalies .chip[aria-pressed=true]')?.dataset.id === id",
         rings[0]["id"])
    assert page.locator("#smile-back").is_visible()  # its snapshot is drawn
    assert page.problems == []


def test_status_bar_shows_stale_data_and_the_market_in_new_york_time(browser, stack, fed):
    newest = httpx.get(f"{stack.api}/chain/latest", headers={"x-functions-key": stack.function_key}, timeout=10).json()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.clock.install(time=datetime.fromisoformat(newest["ts"]) + timedelta(seconds=1))
    page.goto(stack.web_url)
    wait(page, LIVE)
    loaded(page, newest["ts"])
    assert dataset(page, "#age")["stale"] == "false"
    assert page.locator("#market-text").text_content() == "Open until 16:00"  # 12:01 in New York on a Tuesday
    assert page.locator("#ny-time").text_content().startswith("New York 12:0")
    page.clock.fast_forward(20_000)  # no new snapshot for 20 s
    wait(page, "() => document.querySelector('#age').dataset.stale === 'true'")
    assert page.locator("#age-flag").text_content() == "STALE"
    context.close()


def test_filters_act_on_incidents_and_a_facet_type_finds_the_incident(page, fed):
    loaded(page)  # also: the feed comes back from the API on a fresh page
    items = page.locator("#feed-list li")
    incident = page.locator("#feed-list li[data-right='C'][data-strike='602']")
    incident.wait_for(timeout=20_000)
    shown = "(es) => es.map((e) => [e.dataset.id, e.dataset.type])"
    for facet in ("parity", "arbitrage", "iv_jump"):  # a type filter on any face shows the incident, as one row
        page.select_option("#f-type", facet)
        assert page.eval_on_selector_all("#feed-list li", shown) == [[incident.get_attribute("data-id"), "mispricing"]]
    page.select_option("#f-type", "volume_spike")
    assert items.count() == 0 and page.locator("#feed-empty").is_visible()
    page.select_option("#f-type", "")
    page.select_option("#f-right", "P")  # every anomaly here is on the call
    assert items.count() == 0 and page.locator("#feed-empty").is_visible()
    page.select_option("#f-right", "C")
    severity = items.first.get_attribute("data-severity")
    page.select_option("#f-severity", severity)
    assert items.count() >= 1
    assert {e for e in page.eval_on_selector_all("#feed-list li", "(es) => es.map((e) => e.dataset.severity)")} == {severity}
    other = next(s for s in ("low", "medium", "high") if s != severity)
    page.select_option("#f-severity", other)
    assert all(s == other for s in page.eval_on_selector_all("#feed-list li", "(es) => es.map((e) => e.dataset.severity)"))
    assert page.problems == []


def test_an_incident_is_one_row_with_its_facet_chips_and_evidence_in_both_languages(page, fed):
    loaded(page)
    rows = page.locator("#feed-list li[data-right='C'][data-strike='602']")
    rows.first.wait_for(timeout=20_000)
    assert rows.count() == 1
    row = rows.first
    assert row.get_attribute("data-types") == "mispricing arbitrage parity iv_jump"
    assert row.locator(".a-type").text_content() == "Mispricing"
    assert row.locator(".facet").all_text_contents() == ["Arbitrage", "Parity", "IV jump"]
    english = row.locator(".a-facet-line").all_text_contents()  # each face's own evidence: the detector's words
    assert [x.split(" ", 1)[0] for x in english] == ["Arbitrage", "Parity", "IV"]
    assert "butterfly" in english[0] and "put-call parity broken" in english[1] and "IV jumped" in english[2]
    assert "edge $" in row.text_content() and "also" in row.locator(".a-words").text_content()
    page.click("#lang")
    row = page.locator("#feed-list li[data-right='C'][data-strike='602']")
    assert row.locator(".facet").all_text_contents() == ["Arbitraje", "Paridad", "Salto de IV"]
    spanish = row.locator(".a-facet-line").all_text_contents()
    assert "arbitraje entre C 601 / C 602 / C 603" in spanish[0] and "paridad put-call rota" in spanish[1]
    assert "frente a la sonrisa ajustada" in spanish[2]
    assert row.locator("button").get_attribute("aria-label") == \
        "Ver la instantánea de Precio erróneo + Arbitraje + Paridad + Salto de IV Call 602"
    assert page.problems == []


def test_the_markets_grade_is_on_the_alert_row_and_in_the_panel_in_both_languages(page, fed, stack):
    """The C 602 incident (second 10) was marked out 5 s later (second 15): its row shows the markout and the
    panel grades mispricing alerts; a horizon announced later over SignalR joins them; both follow the
    language."""
    loaded(page)
    chip = page.locator("#feed-list li[data-right='C'][data-strike='602'] .markout[data-horizon='5s']")
    chip.wait_for(timeout=20_000)
    assert re.fullmatch(r"5 s -?\$\d+\.\d\d", chip.text_content()), chip.text_content()
    mid = float(chip.get_attribute("data-mid"))
    row = page.locator("#grades-table tr[data-type='mispricing']")
    assert row.locator("th").text_content() == "Mispricing" and row.locator("td").first.text_content() == "1"
    cell = row.locator("td[data-horizon='5s']")
    assert float(cell.get_attribute("data-mean")) == mid and cell.text_content().endswith(" · 100%" if mid > 0 else " · 0%")
    assert row.locator("td[data-horizon='5m']").text_content() == "–"  # not yet: never guessed
    alert_id = page.locator("#feed-list li[data-right='C'][data-strike='602']").get_attribute("data-id")
    send(stack.signalr_connection, "spyglass", "outcome", [{  # the 5-minute horizon passes, live
        "anomaly_id": alert_id, "underlying": "SPY", "alert_ts": "2026-11-24T17:00:10.000Z", "type": "mispricing",
        "severity": "high", "horizon": "5m", "status": "ok", "ts": "2026-11-24T17:05:10.000Z", "mid": -3.25,
        "exit": -5.5}])
    live = page.locator("#feed-list li[data-right='C'][data-strike='602'] .markout[data-horizon='5m']")
    live.wait_for(timeout=20_000)
    assert live.text_content() == "5 min -$3.25" and "neg" in live.get_attribute("class")
    assert row.locator("td[data-horizon='5m']").text_content() == "-$3.25 · 0%"
    assert page.locator("#grades-title").text_content() == "Graded by the market"
    page.click("#lang")
    assert page.locator("#grades-title").text_content() == "Calificadas por el mercado"
    assert page.locator("#grades-table thead th").all_text_contents() == [
        "Tipo de alerta", "Calificadas", "5 s", "30 s", "2 min", "5 min", "cierre"]
    assert page.locator("#grades-table tr[data-type='mispricing'] th").text_content() == "Precio erróneo"
    assert page.problems == []


def test_language_toggle_covers_the_page_and_is_remembered(page, fed, stack):
    loaded(page)
    page.locator("#feed-list li").first.wait_for(timeout=20_000)
    page.click("#lang")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    body = page.locator("body").inner_text()
    for english in ("Anomalies", "Smile", "Through the day", "Gamma exposure", "Data age", "Connection", "Severity",
                    "Expected move", "Market", "Live", "Closed", "Mispricing", "fitted smile", "New York"):
        assert english not in body, english
    assert "Precio erróneo" in body and "Anomalías" in body and "En vivo" in body
    assert re.search(r"\d,\d", page.locator("#kpi-spot dd").text_content())  # 600,00: Spanish decimals
    page.reload()
    wait(page, LIVE)
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert page.locator("h1").text_content() == "Spyglass · radar de anomalías 0DTE"
    page.click("#lang")
    assert page.locator("#conn-text").text_content() == "Live"
    assert page.evaluate("() => localStorage.getItem('spyglass.lang')") == "en"
    assert page.problems == []


def test_recovers_after_the_signalr_service_restarts_and_shows_it_was_disconnected(page, fed, stack):
    loaded(page)
    stack.stop_signalr()
    wait(page, "() => ['reconnecting', 'disconnected'].includes(document.querySelector('#conn').dataset.state)")
    assert page.locator("#conn-text").text_content() in ("Reconnecting…", "Disconnected")
    missed = enqueue(stack, SESSION.take(8, gap=40, right="P", strike=597, by=0.15, onset=2))  # while disconnected
    last_ts = missed[-1]["ts"]
    key = {"x-functions-key": stack.function_key}
    assert wait_api(lambda: httpx.get(f"{stack.api}/chain/latest", headers=key, timeout=5).json().get("ts") == last_ts)
    stack.start_signalr()
    wait(page, LIVE, timeout=30)
    assert "reconnecting" in page.evaluate("() => window.spyglass.states")
    loaded(page, last_ts)  # the chain it missed, from the API
    page.locator("#feed-list li[data-type='mispricing'][data-right='P']").first.wait_for(timeout=10_000)
    outage = page.locator("#outage")
    assert outage.is_visible() and outage.text_content().startswith("Was disconnected")
    assert int(re.search(r"caught up (\d+)", outage.text_content()).group(1)) >= 1
    live = enqueue(stack, SESSION.take(2))  # and live updates flow again
    loaded(page, live[-1]["ts"])


def wait_api(predicate, timeout: float = 45.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    return False


def test_data_containing_script_renders_as_text(page, fed, stack):
    loaded(page)
    hostile = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
    anomaly = {"schema": "anomaly/1", "id": secrets.token_hex(12), "underlying": "SPY", "expiry": "2026-11-24",
               "ts": FIRST_TS, "right": "C", "strike": 601.0, "type": "spread_blowout", "score": 9.0,
               "severity": "high", "edge": None,
               "evidence": {"summary": hostile, "state": "new", "first_seen": FIRST_TS, "rule": "<b>rule</b>"},
               "data_quality": {"grade": "good", "two_sided_share": 1.0}}
    send(stack.signalr_connection, "spyglass", "anomaly", [anomaly])  # straight to the browser, as untrusted data
    entry = page.locator(f"#feed-list li[data-id='{anomaly['id']}']")
    entry.wait_for(timeout=10_000)
    assert hostile in entry.text_content()
    assert entry.locator("script, img").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None
    assert page.problems == []


def test_a_page_opened_late_draws_the_day_so_far_from_the_history_route(fed, browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    late = context.new_page()
    with late.expect_response(lambda r: "/api/chain/history" in r.url, timeout=30_000) as history:
        late.goto(stack.web_url)
    body = history.value.json()
    assert history.value.status == 200 and body["every"] >= 1 and body["count"] >= 2
    wait(late, "(n) => +document.querySelector('#day-chart').dataset.points >= n", body["count"])
    context.close()


def test_screenshots_of_the_main_views(page, fed, browser, stack):
    SHOTS.mkdir(parents=True, exist_ok=True)
    loaded(page)
    page.locator("#feed-list li").first.wait_for(timeout=20_000)
    wait(page, "() => +document.querySelector('#day-chart').dataset.points >= 2")  # the day's backfill is in
    page.screenshot(path=SHOTS / "dashboard-live.png", full_page=True)
    page.locator("#feed-list li[data-type='mispricing'] button").first.click()
    page.locator("#smile-back").wait_for(state="visible")
    page.locator("#smile").screenshot(path=SHOTS / "smile-anomaly-snapshot.png")
    page.click("#lang")
    page.screenshot(path=SHOTS / "dashboard-es.png", full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                has_touch=True)
    small = phone.new_page()
    small.goto(stack.web_url)
    wait(small, LIVE)
    small.locator("#feed-list li").first.wait_for(timeout=20_000)
    wait(small, "() => +document.querySelector('#day-chart').dataset.points >= 2")  # the day's backfill is in
    assert small.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    small.screenshot(path=SHOTS / "dashboard-phone.png", full_page=True)
    phone.close()
    for name in ("dashboard-live", "smile-anomaly-snapshot", "dashboard-es", "dashboard-phone"):
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000, name


def test_the_static_web_app_stand_in_injects_the_key_and_applies_the_config(stack):
    site = stack.web_url.rstrip("/")
    assert httpx.get(f"{stack.api}/anomalies", timeout=10).status_code == 401  # the host wants a key
    assert httpx.get(f"{site}/api/anomalies", timeout=10).status_code == 200  # the SWA adds it
    index = httpx.get(f"{site}/", timeout=10)
    csp = index.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    signalr = re.match(r"Endpoint=(http://[^;]+)", stack.signalr_connection).group(1)
    assert f"connect-src 'self' {signalr} {signalr.replace('http', 'ws', 1)}" in csp
    assert httpx.get(f"{site}/some/deep/link", timeout=10).text == index.text  # navigation fallback
    assert httpx.get(f"{site}/js/missing.js", timeout=10).status_code == 404  # excluded from the fallback
    assert httpx.get(f"{site}/staticwebapp.config.json", timeout=10).status_code == 404
    assert httpx.get(f"{site}/api/health", timeout=10).json()["status"] == "ok"


FROZEN = [("C", k) for k in range(597, 606)] + [("P", k) for k in range(595, 604)]


@pytest.fixture(scope="module")
def frozen(stack, fed):
    """After the other tests: the whole smile reprices (a chain-level iv_jump), then a near-the-money block
    freezes while spot climbs (stale quotes, one chain-level data error) and a quote is crossed."""
    return enqueue(stack, SESSION.take(3, vol_jump=0.03) + SESSION.take_frozen(14, FROZEN, crossed=("P", 590)))


def test_data_errors_stay_off_the_market_feed_and_have_their_own_view(page, frozen):
    loaded(page, frozen[-1]["ts"])
    count = "(view) => +document.querySelector(`#views [data-view=${view}] .count`).textContent"
    wait(page, f"() => ({count})('data') >= 2", timeout=30)  # the crossed quote and the stale block
    # the market rows come from the backfill and SignalR, which may land after the data errors on a busy host
    wait(page, "() => !!document.querySelector(\"#feed-list li[data-type='iv_jump'][data-chain='true']\")", timeout=30)
    rows = "(es) => es.map((e) => [e.dataset.type, e.dataset.chain || '', e.dataset.id])"
    market = page.eval_on_selector_all("#feed-list li", rows)
    assert market and all(t != "data_error" for t, _, _ in market)  # off the market feed by default
    assert page.locator("#views [data-view=market]").get_attribute("aria-pressed") == "true"
    shifts = [i for t, chain, i in market if t == "iv_jump" and chain == "true"]  # the smile moved: a chain row
    assert shifts and not {r["id"] for r in page.evaluate("() => window.spyglass.smileMarkers()")} & set(shifts)
    page.click("#views [data-view=data]")
    assert page.locator("#views [data-view=data]").get_attribute("aria-pressed") == "true"
    data = page.eval_on_selector_all("#feed-list li", rows)
    assert data and all(t == "data_error" for t, _, _ in data) and len(data) == page.evaluate(count, "data")
    crossed = page.locator("#feed-list li[data-right='P'][data-strike='590']")
    assert "crossed quote" in crossed.text_content()
    stale = page.locator("#feed-list li[data-chain='true'][data-type='data_error']").first
    assert stale.locator(".a-contract").text_content() == "whole chain"
    listed = stale.locator(".a-lines").text_content()
    assert re.match(r"\d+ lines: [CP] \d+", listed) and "C 600" in listed
    assert page.locator("#f-type").is_hidden()  # no market type to filter data errors by
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#feed").screenshot(path=SHOTS / "feed-data-errors.png")
    page.click("#lang")
    assert "cotización congelada" in page.locator("#feed-list li[data-chain='true']").first.text_content()  # stale_quote
    assert page.locator("#views [data-view=data]").text_content().startswith("Errores de datos")
    page.click("#views [data-view=market]")
    assert all(t != "data_error" for t, _, _ in page.eval_on_selector_all("#feed-list li", rows))
    assert page.problems == []
