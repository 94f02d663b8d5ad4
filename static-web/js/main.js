// Wires the dashboard: initial state from the API, live updates over SignalR, catch-up after a reconnect; one
// underlying on screen at a time (?u=, remembered), the others' anomalies kept for the feed and announced when high.

import {$, el, text} from "./dom.js";
import {alarm, announce, clearNotices, fired, isAlarm, renderNotices, wireAlerts} from "./alerts.js";
import * as api from "./api.js";
import {DayChart, GexChart, renderKpis} from "./day.js";
import {buildFilters, currentView, renderFeed} from "./feed.js";
import {applyStatic, lang, onLang, setLang, t, timeNY} from "./i18n.js";
import {VIEWS} from "./incident.js";
import {connect} from "./live.js";
import {addOutcome, HORIZONS, onOutcome, renderGrades} from "./outcome.js";
import {SmileChart} from "./smile.js";
import {noteCaughtUp, renderStatus, setConnection} from "./status.js";
import {activeAt, addAnomalies, addDayPoint, anomaliesAt, noteChain, setChain, showUnderlying, store, underlyings}
  from "./store.js";

const SESSION_MINUTES = 390; // back from the close: a whole regular session, more than an early close
const DAY_POINTS = 400; // the day chart's backfill resolution
const smile = new SmileChart($("#smile-chart"), $("#smile-anomalies"), select);
const day = new DayChart($("#day-chart"));
const gex = new GexChart($("#gex-chart"));
let pinned = null; // {anomaly, chain} while a past snapshot is drawn

// When each chain message was drawn (wall clock, ms), by seq: bench/bench_browser.py compares it with the
// enqueue time it logged for that seq.
const renders = [];
const states = []; // connection states as they happened, so a short outage stays visible to tests
window.spyglass = {renders, states, store, fired, smileLines: () => smile.lines(),
  smileMarkers: () => smile.markers.map(({x, y, anomaly}) => ({x, y, id: anomaly.id}))};

function showError(err) {
  text("#error", err ? t("error.api", {message: err.message ?? String(err)}) : "");
  $("#error").hidden = !err;
}

let feedQueued = false;
function scheduleFeed() {
  if (feedQueued) return;
  feedQueued = true;
  requestAnimationFrame(() => { feedQueued = false; renderFeed(select); });
}

function drawLive() {
  const chain = store.chain;
  $("#smile-back").hidden = true;
  text("#smile-caption", chain ? t("smile.live", {time: timeNY(chain.ts)}) : "");
  if (!chain) { // nothing yet for the underlying on screen: nothing of the previous one stays drawn
    smile.update(null, []);
    gex.update(null);
    renderKpis(null);
    return;
  }
  smile.update(chain, activeAt(chain.ts, 30, VIEWS[currentView()]), null, "smile.recent");
  gex.update(chain);
  renderKpis(chain);
}

function drawPinned() {
  const {anomaly, chain} = pinned;
  $("#smile-back").hidden = false;
  text("#smile-caption", t("smile.pinned", {time: timeNY(chain.ts)}));
  const marked = anomaliesAt(chain.ts).filter((a) => a.id !== anomaly.id && VIEWS[currentView()](a));
  smile.update(chain, [...marked, anomaly], anomaly.id, "smile.anomalies");
  gex.update(chain);
  renderKpis(chain);
}

const redraw = () => (pinned ? drawPinned() : drawLive());

const UNDERLYING_KEY = "spyglass.underlying";
const TICKER = /^[A-Z][A-Z0-9.]{0,9}$/;
let generation = 0; // bumped by every switch, so a slow backfill of the previous underlying is dropped

/** The underlying asked for: ?u= in the URL (with data or not), else the one remembered if it has data, else null
 * (the freshest decides). */
function askedUnderlying(withData) {
  const fromUrl = new URLSearchParams(location.search).get("u")?.toUpperCase();
  if (fromUrl && TICKER.test(fromUrl)) return fromUrl;
  let saved = null;
  try { saved = localStorage.getItem(UNDERLYING_KEY); } catch { /* storage may be disabled */ }
  return saved && withData.includes(saved) ? saved : null;
}

/** The selector: every underlying seen, freshest first (rebuilt only when the set changes, not while it reorders). */
function renderSelector() {
  const picker = $("#underlying");
  const list = underlyings();
  if (store.underlying && !list.includes(store.underlying)) list.unshift(store.underlying);
  const have = [...picker.options].map((o) => o.value);
  if (have.length !== list.length || list.some((u) => !have.includes(u))) {
    picker.replaceChildren(...list.map((u) => el("option", {value: u}, u)));
  }
  picker.value = store.underlying ?? "";
  $("#smile").dataset.underlying = store.underlying ?? "";
}

/** Show `underlying`: remembered, in the URL, its chain, anomalies and day drawn from the API. */
async function switchTo(underlying) {
  if (!underlying || !TICKER.test(underlying)) return;
  const mine = ++generation;
  pinned = null;
  showUnderlying(underlying);
  try { localStorage.setItem(UNDERLYING_KEY, underlying); } catch { /* not remembered, still shown */ }
  const url = new URL(location.href);
  url.searchParams.set("u", underlying);
  history.replaceState(null, "", url);
  clearNotices(underlying);
  renderSelector();
  buildFilters(onFilters); // the feed's "on screen" choice names the underlying
  day.update();
  redraw();
  renderFeed(select);
  renderGrades(); // graded alerts of the underlying on screen
  renderStatus();
  await loadUnderlying(underlying, mine);
}

/** The chain, the last 30 minutes of anomalies and the day so far of one underlying, from the API. */
async function loadUnderlying(underlying, mine) {
  try {
    const chain = await api.latestChain(underlying);
    if (mine !== generation) return;
    if (chain) onChain(chain, performance.timeOrigin + performance.now());
    const around = chain ? Date.parse(chain.ts) : Date.now();
    const since = new Date(around - 30 * 60e3).toISOString();
    const found = await api.anomalies({since, until: untilFor(chain?.ts), underlying});
    if (mine !== generation) return;
    addWithOutcomes(found);
    scheduleFeed();
    redraw();
    if (chain) await backfillDay(chain, mine);
    showError(null);
  } catch (err) {
    showError(err);
  }
}

function onChain(chain, receivedAt) {
  if (!chain || typeof chain.underlying !== "string") return;
  if (chain.underlying !== store.underlying && store.underlying) { // another underlying: only the selector learns
    if (noteChain(chain)) renderSelector();
    return;
  }
  const first = !store.underlying;
  if (!setChain(chain)) return;
  renderSelector();
  if (first) buildFilters(onFilters); // the feed's "on screen" choice names it
  day.update();
  if (!pinned) drawLive();
  requestAnimationFrame(() => {
    renders.push({ts: chain.ts, seq: chain.seq, received: receivedAt, rendered: performance.timeOrigin + performance.now()});
    if (renders.length > 5000) renders.splice(0, renders.length - 5000);
  });
  renderStatus();
}

/** Anomalies from the API carry the outcomes known when they were read. */
function addWithOutcomes(list) {
  for (const a of list) for (const h of HORIZONS) if (a?.outcome?.[h]) addOutcome(a.id, h, {...a.outcome[h], type: a.type, underlying: a.underlying});
  const added = addAnomalies(list);
  renderGrades();
  return added;
}

function onMarkout(m) {
  if (!onOutcome(m)) return;
  scheduleFeed();
  renderGrades();
}

/** Every underlying's anomalies are kept (the feed can show them all); a new high-severity one elsewhere is
 * announced, and notifications and the beep follow the user's choice. */
function onAnomaly(anomaly) {
  if (!addAnomalies([anomaly])) return;
  alarm(anomaly);
  scheduleFeed();
  if (anomaly.underlying !== store.underlying) {
    if (isAlarm(anomaly)) announce(anomaly, (u) => switchTo(u));
    return;
  }
  if (!pinned && store.chain && anomaly.ts <= store.chain.ts) drawLive(); // usually it precedes its chain
}

/** Draw the snapshot an anomaly came from, with the anomaly marked (switching to its underlying first). */
async function select(anomaly) {
  try {
    if (anomaly.underlying && anomaly.underlying !== store.underlying) await switchTo(anomaly.underlying);
    const chain = await api.chainAt(anomaly.ts, anomaly.underlying, anomaly.expiry);
    if (!chain) throw new Error(`no snapshot at ${anomaly.ts}`);
    pinned = {anomaly, chain};
    showError(null);
    drawPinned();
    $("#smile").scrollIntoView({block: "nearest"});
  } catch (err) {
    showError(err);
  }
}

function untilFor(ts) {
  const later = Math.max(Date.now(), ts ? Date.parse(ts) : 0) + 3600e3;
  return new Date(later).toISOString();
}

/** The underlyings the feed can show: the one on screen first, then the others seen. */
const known = () => [...new Set([store.underlying, ...underlyings()].filter(Boolean))];

/** After a reconnect: everything since the newest thing seen, then the latest chain. */
async function catchUp() {
  try {
    const since = store.newestTs ?? new Date(Date.now() - 3600e3).toISOString();
    let added = 0;
    for (const underlying of known()) {
      added += addWithOutcomes(await api.anomalies({since, until: untilFor(since), underlying}));
    }
    noteCaughtUp(added);
    scheduleFeed();
    const chain = store.underlying ? await api.latestChain(store.underlying) : null;
    if (chain) onChain(chain, performance.timeOrigin + performance.now());
    else redraw();
    showError(null);
  } catch (err) {
    showError(err);
  }
}

/** The day so far from /api/chain/history, about DAY_POINTS points whatever the hour; live snapshots add
 * theirs as they come. */
async function backfillDay(chain, mine) {
  const since = Date.parse(chain.ts) + (chain.minutes_to_close ?? 0) * 60e3 - SESSION_MINUTES * 60e3;
  const series = await api.chainHistory({since: new Date(since).toISOString(), until: chain.ts,
    underlying: chain.underlying, expiry: chain.expiry, points: DAY_POINTS});
  if (mine !== generation) return;
  for (const point of series?.items ?? []) addDayPoint(point);
  day.update();
}

/** The underlyings with data, freshest first (/api/chains); the asked-for one, else SPY, else the freshest, shown;
 * then the others' recent anomalies, for the feed's "All". */
async function loadInitial() {
  try {
    const chains = (await api.chains())?.items ?? [];
    for (const c of chains) noteChain(c, Date.now() - (c.age_seconds ?? 0) * 1000);
    const freshest = chains.some((c) => c.underlying === "SPY") ? "SPY" : chains[0]?.underlying ?? null;
    const underlying = askedUnderlying(chains.map((c) => c.underlying)) ?? freshest;
    if (underlying) await switchTo(underlying);
    else renderSelector();
    for (const c of chains.filter((x) => x.underlying !== store.underlying)) {
      const since = new Date(Date.parse(c.ts) - 30 * 60e3).toISOString();
      addWithOutcomes(await api.anomalies({since, until: untilFor(c.ts), underlying: c.underlying}));
      scheduleFeed();
    }
  } catch (err) {
    showError(err);
  }
}

function onFilters() {
  renderFeed(select);
  redraw(); // the smile marks what the feed's view shows: market anomalies, or data errors
}

function buildAll() {
  applyStatic();
  $("#lang").textContent = t("app.lang");
  $("#lang").setAttribute("aria-label", t("app.lang.label"));
  buildFilters(onFilters);
  renderSelector();
  renderNotices();
  smileLines();
  smile.build();
  day.build();
  gex.build();
  redraw();
  renderFeed(select);
  renderGrades();
  renderStatus();
}

/** The smile's line toggle and the note saying which lines are drawn. */
function smileLines() {
  $("#smile-lines").setAttribute("aria-pressed", String(smile.all));
  text("#smile-shown", t(smile.all ? "smile.all" : "smile.otm"));
}

$("#lang").addEventListener("click", () => setLang(lang() === "en" ? "es" : "en"));
$("#underlying").addEventListener("change", (e) => switchTo(e.target.value));
$("#smile-lines").addEventListener("click", () => {
  smile.setAll(!smile.all);
  smileLines();
});
wireAlerts();
$("#smile-back").addEventListener("click", () => { pinned = null; drawLive(); });
onLang(buildAll);
buildAll();
connect({
  anomaly: onAnomaly,
  chain: onChain,
  signal: onAnomaly, // a signal is an anomaly too (same id): it is already in the feed or joins it
  outcome: onMarkout,
  state: (state, info) => {
    states.push(state);
    setConnection(state, info);
    if (state === "live" && info.reconnected) catchUp();
  },
});
loadInitial();
setInterval(() => renderStatus(), 1000);
