"""The dashboard with two underlyings at once: the selector, the URL, the feed's scope, announcements of
high-severity incidents elsewhere, opt-in notifications, the smile's out-of-the-money default and the market state
taken from the data (a simulated session badged as such).

A stack of its own (QQQ and IWM from ``spyglass.sim``, so the SPY module's data is untouched) and one Chromium;
each test gets a fresh browser context (its own localStorage). Snapshots go in through the queue as the edge sends
them; crafted incidents go straight to the browsers over the real SignalR service.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import httpx
import pytest

from devstack.proc import REPO
from devstack.signalr import send
from devstack.stack import LocalStack
from spyglass.sim import SimConfig, simulate_day
from tests.browser.kit import dataset, enqueue, wait

pytestmark = pytest.mark.xdist_group("browser-underlyings")  # one stack and one Chromium, on one worker
LIVE = "() => document.querySelector('#conn').dataset.state === 'live'"
SHOTS = REPO / "out" / "screenshots"
DAY = "2026-11-24"  # a Tuesday; 11:00 in New York is 16:00 UTC


def session(underlying: str, start: str, seconds: int, seed: int) -> list[dict]:
    end = (datetime.strptime(start, "%H:%M:%S") + timedelta(seconds=seconds)).strftime("%H:%M:%S")
    return list(simulate_day(SimConfig(underlying=underlying, trading_date=DAY, start=start, end=end, seed=seed)))


@pytest.fixture(scope="module")
def stack():
    with LocalStack(web=True, clock_start=f"{DAY}T16:10:00.000Z") as s:  # the app's clock: after the test data
        yield s


@pytest.fixture(scope="module")
def fed(stack):
    """QQQ, then IWM a few seconds later (IWM is the freshest), stored before any page looks."""
    qqq, iwm = session("QQQ", "11:00:00", 12, seed=11), session("IWM", "11:00:05", 12, seed=12)
    enqueue(stack, qqq + iwm)
    key = {"x-functions-key": stack.function_key}

    def newest() -> dict[str, str]:
        items = httpx.get(f"{stack.api}/chains", headers=key, timeout=5).json()["items"]
        return {c["underlying"]: c["ts"] for c in items}

    want = {"QQQ": qqq[-1]["ts"], "IWM": iwm[-1]["ts"]}
    assert poll(lambda: newest() == want, timeout=300), "the sessions were not stored within 5 minutes"
    return {"QQQ": qqq, "IWM": iwm}


def poll(predicate, timeout: float) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.25)
    return False


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield ctx
    ctx.close()


def open_page(context, url: str):
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(url)
    wait(page, LIVE, timeout=60)
    return page


def showing(page, underlying: str, ts: str) -> None:
    """Wait until the smile and GEX draw ``underlying``'s snapshot at ``ts`` (or newer) and the day chart has its
    backfill."""
    wait(page, """([u, ts]) => document.querySelector('#smile').dataset.underlying === u
        && (document.querySelector('#smile-chart').dataset.ts || '') >= ts
        && document.querySelector('#gex-chart').dataset.underlying === u
        && +document.querySelector('#day-chart').dataset.points >= 2""", [underlying, ts], timeout=45)


def incident(underlying: str, ts: str, *, severity: str = "high", strike: float = 500.0) -> dict:
    return {"schema": "anomaly/1", "id": secrets.token_hex(12), "underlying": underlying, "expiry": DAY, "ts": ts,
            "right": "C", "strike": strike, "type": "mispricing", "score": 9.0, "severity": severity, "edge": 0.4,
            "evidence": {"summary": "test incident", "state": "new", "first_seen": ts},
            "data_quality": {"grade": "good", "two_sided_share": 1.0}}


def rows(page) -> list[str]:
    return page.eval_on_selector_all("#feed-list li", "(es) => es.map((e) => e.dataset.underlying)")


def test_switching_underlying_redraws_smile_analytics_and_feed_and_is_remembered(context, stack, fed):
    page = open_page(context, stack.web_url)
    iwm, qqq = fed["IWM"][-1], fed["QQQ"][-1]
    showing(page, "IWM", iwm["ts"])  # nothing asked for: the freshest
    assert page.eval_on_selector_all("#underlying option", "(os) => os.map((o) => o.value)") == ["IWM", "QQQ"]
    assert "u=IWM" in page.url
    iwm_spot = page.locator("#kpi-spot dd").text_content()
    sent = [incident(u, ts, severity="low") for u, ts in (("IWM", iwm["ts"]), ("QQQ", qqq["ts"]))]
    for a in sent:  # one incident each, live
        send(stack.signalr_connection, "spyglass", "anomaly", [a])
    wait(page, "(ids) => ids.every((id) => window.spyglass.store.anomalies.has(id))", [a["id"] for a in sent])
    page.locator(f"#feed-list li[data-id='{sent[0]['id']}']").wait_for(timeout=10_000)
    assert set(rows(page)) == {"IWM"}  # the feed follows the underlying on screen
    graded = {"anomaly_id": sent[1]["id"], "underlying": "QQQ", "alert_ts": qqq["ts"], "type": "mispricing",
              "severity": "low", "horizon": "5s", "status": "ok", "ts": qqq["ts"], "mid": 1.25, "exit": 1.0}
    send(stack.signalr_connection, "spyglass", "outcome", [graded])  # QQQ's alert graded, IWM on screen
    wait(page, "(id) => window.spyglass.store.outcomes.has(id)", graded["anomaly_id"])
    assert page.locator("#grades-table tr[data-type='mispricing']").count() == 0  # the grades are IWM's

    page.select_option("#underlying", "QQQ")
    showing(page, "QQQ", qqq["ts"])  # the smile and the day chart, backfilled from the API for QQQ
    assert dataset(page, "#smile-chart")["ts"] <= qqq["ts"]
    assert page.locator("#kpi-spot dd").text_content() != iwm_spot
    assert page.evaluate("() => window.spyglass.store.chain.underlying") == "QQQ"
    assert set(rows(page)) == {"QQQ"}
    assert page.locator("#grades-table tr[data-type='mispricing'] td").first.text_content() == "1"
    assert "u=QQQ" in page.url
    assert page.evaluate("() => localStorage.getItem('spyglass.underlying')") == "QQQ"

    page.select_option("#f-scope", "all")  # every underlying, each row naming its own
    wait(page, "() => new Set([...document.querySelectorAll('#feed-list li')].map((e) => e.dataset.underlying)).size == 2")
    assert page.locator("#feed-list li[data-underlying='IWM'] .a-contract").first.text_content().startswith("IWM ")

    again = open_page(context, stack.web_url)  # no ?u=: the remembered one
    showing(again, "QQQ", qqq["ts"])
    assert page.problems == [] and again.problems == []


def test_the_url_names_the_underlying_and_the_selector_speaks_spanish(context, stack, fed):
    page = open_page(context, stack.web_url + "?u=qqq")
    showing(page, "QQQ", fed["QQQ"][-1]["ts"])
    assert page.locator("#underlying").input_value() == "QQQ"
    assert page.locator("label.underlying span").text_content() == "Underlying"
    page.click("#lang")
    assert page.locator("label.underlying span").text_content() == "Subyacente"
    assert page.locator("#f-scope option[value=all]").text_content() == "Todos"
    assert page.locator("#underlying").input_value() == "QQQ"  # a language change keeps the underlying
    assert page.problems == []


def test_a_high_incident_elsewhere_is_announced_without_switching_and_the_notice_switches(context, stack, fed):
    page = open_page(context, stack.web_url + "?u=QQQ")
    showing(page, "QQQ", fed["QQQ"][-1]["ts"])
    ts = fed["IWM"][-1]["ts"]
    send(stack.signalr_connection, "spyglass", "anomaly", [incident("IWM", ts, severity="medium", strike=222.0)])
    alarm = incident("IWM", ts, strike=221.0)
    send(stack.signalr_connection, "spyglass", "anomaly", [alarm])
    note = page.locator(f"#notice .notice-item[data-id='{alarm['id']}']")
    note.wait_for(timeout=10_000)
    assert page.locator("#notice").get_attribute("aria-live") == "polite"
    assert page.locator("#notice .notice-item").count() == 1  # the medium one is not announced
    assert note.locator(".notice-text").text_content().startswith("High-severity Mispricing Call 221 on IWM at ")
    assert dataset(page, "#smile")["underlying"] == "QQQ"  # announced, not switched to
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "dashboard-underlyings.png", full_page=True)
    page.click("#lang")
    assert note.locator(".notice-text").text_content().startswith("Precio erróneo Call 221 de gravedad alta en IWM a las ")
    assert note.locator(".notice-show").text_content() == "Ver IWM"
    note.locator(".notice-show").click()
    showing(page, "IWM", ts)
    assert page.locator("#notice .notice-item").count() == 0  # on screen now: the notice has done its job
    assert page.locator(f"#feed-list li[data-id='{alarm['id']}']").count() == 1
    assert page.problems == []


def test_the_smile_hides_in_the_money_lines_until_asked_and_remembers(context, stack, fed):
    page = open_page(context, stack.web_url + "?u=QQQ")
    showing(page, "QQQ", fed["QQQ"][-1]["ts"])
    forward = page.evaluate("() => window.spyglass.store.chain.forward")
    lines = page.evaluate("() => window.spyglass.smileLines()")
    band = 0.0025 * forward
    assert dataset(page, "#smile-chart")["lines"] == "otm"
    assert lines["C"] and lines["P"]
    assert all(k >= forward - band for k in lines["C"]) and all(k <= forward + band for k in lines["P"])
    assert page.locator("#smile-lines").get_attribute("aria-pressed") == "false"
    page.click("#smile-lines")
    every = page.evaluate("() => window.spyglass.smileLines()")
    assert any(k < forward - band for k in every["C"]) and any(k > forward + band for k in every["P"])  # ITM too
    assert page.locator("#smile-lines").get_attribute("aria-pressed") == "true"
    assert page.locator("#smile-shown").text_content() == "every line, in the money too"
    page.reload()
    showing(page, "QQQ", fed["QQQ"][-1]["ts"])
    assert dataset(page, "#smile-chart")["lines"] == "all"
    page.click("#lang")
    assert page.locator("#smile-lines").text_content() == "Todas las líneas"
    assert page.problems == []


def test_notifications_and_sound_stay_off_until_the_user_turns_them_on(browser, stack, fed):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.grant_permissions(["notifications"])  # the browser would allow them: the page still must not
    context.add_init_script(script="""(() => {
        const Real = window.Notification;
        window.__shown = [];
        window.Notification = class extends Real {
            constructor(title, options) { super(title, options); window.__shown.push(title); }
        };
        window.Notification.requestPermission = (...a) => { window.__asked = (window.__asked || 0) + 1;
            return Real.requestPermission(...a); };
    })()""")
    try:
        page = open_page(context, stack.web_url + "?u=IWM")
        showing(page, "IWM", fed["IWM"][-1]["ts"])
        assert page.evaluate("() => Notification.permission") == "granted"
        assert not page.locator("#alerts-notify").is_checked() and not page.locator("#alerts-sound").is_checked()
        first = incident("QQQ", fed["QQQ"][-1]["ts"])
        send(stack.signalr_connection, "spyglass", "anomaly", [first])
        page.locator(f"#notice .notice-item[data-id='{first['id']}']").wait_for(timeout=10_000)
        assert page.evaluate("() => [window.__shown.length, window.__asked || 0]") == [0, 0]  # off: nothing asked, shown
        assert page.evaluate("() => window.spyglass.fired.beeps") == 0

        page.check("#alerts-notify")
        page.check("#alerts-sound")
        wait(page, "() => window.__asked === 1")  # asked on the click, once
        second = incident("QQQ", fed["QQQ"][-1]["ts"], strike=501.0)
        send(stack.signalr_connection, "spyglass", "anomaly", [second])
        wait(page, "() => window.__shown.length === 1")
        assert page.evaluate("() => window.__shown[0]") == "Spyglass · QQQ: Mispricing Call 501"
        assert page.evaluate("() => window.spyglass.fired") == {"notified": [second["id"]], "beeps": 1}
        low = incident("IWM", fed["IWM"][-1]["ts"], severity="low", strike=223.0)  # not high: no alarm
        send(stack.signalr_connection, "spyglass", "anomaly", [low])
        page.locator(f"#feed-list li[data-id='{low['id']}']").wait_for(timeout=10_000)
        assert page.evaluate("() => window.__shown.length") == 1

        page.reload()  # remembered
        wait(page, LIVE, timeout=60)
        assert page.locator("#alerts-notify").is_checked() and page.locator("#alerts-sound").is_checked()
        assert page.problems == []
    finally:
        context.close()


def test_fresh_simulated_data_opens_the_session_with_a_badge(browser, stack, fed):
    newest = fed["IWM"][-1]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.clock.install(time=datetime.fromisoformat(newest["ts"]) + timedelta(seconds=1))
        page.goto(stack.web_url + "?u=IWM")
        wait(page, LIVE, timeout=60)
        showing(page, "IWM", newest["ts"])
        page.clock.set_system_time(datetime.fromisoformat(newest["ts"]) + timedelta(seconds=2))  # however long it took
        wait(page, "() => document.querySelector('#age').dataset.stale === 'false'")
        assert dataset(page, "#market") == {"open": "true", "from": "data"}  # the data's session, not the calendar
        assert page.locator("#market-text").text_content() == "Open until 16:00"  # ts + minutes_to_close, New York
        assert page.locator("#sim").is_visible() and page.locator("#sim").text_content() == "Simulated session"
        page.click("#lang")
        assert page.locator("#sim").text_content() == "Sesión simulada"
        assert page.locator("#market-text").text_content() == "Abierto hasta las 16:00"
        assert page.problems == []
    finally:
        context.close()


def test_the_market_state_rule_follows_the_data_and_falls_back_to_the_calendar(context, stack):
    page = context.new_page()
    page.goto(stack.web_url)
    got = page.evaluate("""async () => {
        const m = await import('/js/market.js');
        const saturday = Date.parse('2026-11-28T16:00:00Z');  // the calendar says closed
        const chain = {ts: '2026-11-28T16:00:00.000Z', minutes_to_close: 300, source: 'sim-demo'};
        const at = (now, receivedAt, fresh) => {
            const s = m.marketState({chain, receivedAt, now, fresh});
            return [s.open, s.from, s.closes];
        };
        return {
            fresh: at(saturday + 1000, saturday + 500, true),
            staleBeforeClose: at(saturday + 60e3, saturday, false),
            pastClose: at(saturday + 301 * 60e3, saturday, true),
            none: [m.marketState({now: saturday}).open, m.marketState({now: saturday}).from],
            sim: [{simulated: true}, {simulated: false, source: 'sim'}, {source: 'sim'}, null].map(m.isSimulated),
        };
    }""")
    assert got["fresh"] == [True, "data", "16:00"]  # 11:00 + 300 min = 16:00 New York, on a Saturday
    assert got["staleBeforeClose"] == [False, "calendar", "16:00"]  # stale: the calendar says (closed)
    assert got["pastClose"] == [False, "data", "16:00"]  # the data's close has passed
    assert got["none"] == [False, "calendar"]
    assert got["sim"] == [True, False, False, False]  # the core's word on the chain, never the page's own guess


def test_missing_values_read_as_dashes_zero_gamma_names_the_nearest_and_axes_keep_a_minimum_span(context, stack, fed):
    page = open_page(context, stack.web_url + "?u=QQQ")
    showing(page, "QQQ", fed["QQQ"][-1]["ts"])
    spans = dataset(page, "#day-chart")
    moves = page.evaluate("() => [...window.spyglass.store.day.values()].map((p) => p.move).filter((m) => m > 0)")
    assert float(spans["volSpan"]) >= 4 - 1e-9  # a couple of vol points either way, however flat the day
    assert float(spans["moveSpan"]) >= 0.2 * max(moves) * 0.99  # at least ±10 % of the expected move's level
    key = {"x-functions-key": stack.function_key}
    chain = httpx.get(f"{stack.api}/chain/latest", params={"underlying": "QQQ"}, headers=key, timeout=10).json()
    spot = chain["spot"]
    levels = [round(spot - 6), round(spot - 2), round(spot + 3), round(spot + 9)]
    newer = datetime.fromisoformat(chain["ts"]) + timedelta(seconds=1)
    first_line = {**chain, "ts": newer.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "atm_iv": 0.0, "expected_move": 0.0,
                  "expected_move_pct": None, "rr25_vol_points": None, "gex": {**chain["gex"], "zero_gamma": levels}}
    send(stack.signalr_connection, "spyglass", "chain", [first_line])  # a first line whose fit did not hold: 0.0
    wait(page, "(ts) => document.querySelector('#smile-chart').dataset.ts === ts", first_line["ts"])
    for kpi in ("atm", "move", "rr"):
        assert page.locator(f"#kpi-{kpi} dd").text_content() == "—", kpi
    point = page.evaluate("(ts) => window.spyglass.store.day.get(ts)", first_line["ts"])
    assert point["atm"] is None and point["move"] is None  # a gap in the day chart, not a drop to 0
    zero = page.locator("#kpi-zero dd")
    below, above = (lv for lv in levels if abs(lv - spot) < 4)
    assert zero.text_content().startswith(f"{below} · {above}")  # the two bracketing spot
    more = zero.locator("details")
    assert more.locator("summary").text_content() == "2 more" and not more.evaluate("(d) => d.open")
    more.locator("summary").click()
    assert more.evaluate("(d) => d.open") and f"{levels[0]} · {levels[3]}" in more.text_content()
    assert page.problems == []
