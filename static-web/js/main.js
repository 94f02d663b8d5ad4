// Wires the dashboard: initial state from the API, live updates over SignalR, catch-up after a reconnect.

import {$, text} from "./dom.js";
import * as api from "./api.js";
import {DayChart, GexChart, renderKpis} from "./day.js";
import {buildFilters, currentView, renderFeed} from "./feed.js";
import {applyStatic, lang, onLang, setLang, t, timeNY} from "./i18n.js";
import {VIEWS} from "./incident.js";
import {connect} from "./live.js";
import {addOutcome, HORIZONS, onOutcome, renderGrades} from "./outcome.js";
import {SmileChart} from "./smile.js";
import {noteCaughtUp, renderStatus, setConnection} from "./status.js";
import {activeAt, addAnomalies, addDayPoint, anomaliesAt, setChain, store} from "./store.js";

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
window.spyglass = {renders, states, store, smileMarkers: () => smile.markers.map(({x, y, anomaly}) => ({x, y, id: anomaly.id}))};

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
  if (!chain) {
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

function onChain(chain, receivedAt) {
  if (store.underlying && chain?.underlying !== store.underlying) return; // one underlying per page
  if (!setChain(chain)) return;
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
  for (const a of list) for (const h of HORIZONS) if (a?.outcome?.[h]) addOutcome(a.id, h, {...a.outcome[h], type: a.type});
  const added = addAnomalies(list);
  renderGrades();
  return added;
}

function onMarkout(m) {
  if (store.underlying && m?.underlying !== store.underlying) return;
  if (!onOutcome(m)) return;
  scheduleFeed();
  renderGrades();
}

function onAnomaly(anomaly) {
  if (store.underlying && anomaly?.underlying !== store.underlying) return;
  if (!addAnomalies([anomaly])) return;
  scheduleFeed();
  if (!pinned && store.chain && anomaly.ts <= store.chain.ts) drawLive(); // usually it precedes its chain
}

/** Draw the snapshot an anomaly came from, with the anomaly marked. */
async function select(anomaly) {
  try {
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

/** After a reconnect: everything since the newest thing seen, then the latest chain. */
async function catchUp() {
  try {
    const since = store.newestTs ?? new Date(Date.now() - 3600e3).toISOString();
    const added = addWithOutcomes(await api.anomalies({since, until: untilFor(since), underlying: store.underlying ?? undefined}));
    noteCaughtUp(added);
    scheduleFeed();
    const chain = await api.latestChain(store.underlying ?? undefined);
    if (chain) onChain(chain, performance.timeOrigin + performance.now());
    else redraw();
    showError(null);
  } catch (err) {
    showError(err);
  }
}

/** The day so far from /api/chain/history, about DAY_POINTS points whatever the hour; live snapshots add
 * theirs as they come. */
async function backfillDay(chain) {
  const since = Date.parse(chain.ts) + (chain.minutes_to_close ?? 0) * 60e3 - SESSION_MINUTES * 60e3;
  const series = await api.chainHistory({since: new Date(since).toISOString(), until: chain.ts,
    underlying: chain.underlying, expiry: chain.expiry, points: DAY_POINTS});
  for (const point of series?.items ?? []) addDayPoint(point);
  day.update();
}

/** The freshest underlying by /api/chains, so an empty stack asks for no chain. */
async function freshestUnderlying() {
  const chains = (await api.chains())?.items ?? []; // freshest first
  return chains.some((c) => c.underlying === "SPY") ? "SPY" : chains[0]?.underlying ?? null;
}

async function loadInitial() {
  try {
    const underlying = await freshestUnderlying();
    const chain = underlying ? await api.latestChain(underlying) : null;
    if (chain) onChain(chain, performance.timeOrigin + performance.now());
    const around = chain ? Date.parse(chain.ts) : Date.now();
    const since = new Date(around - 30 * 60e3).toISOString();
    addWithOutcomes(await api.anomalies({since, until: untilFor(chain?.ts), underlying: chain?.underlying}));
    scheduleFeed();
    redraw();
    if (chain) await backfillDay(chain);
  } catch (err) {
    showError(err);
  }
}

function buildAll() {
  applyStatic();
  $("#lang").textContent = t("app.lang");
  $("#lang").setAttribute("aria-label", t("app.lang.label"));
  buildFilters(() => {
    renderFeed(select);
    redraw(); // the smile marks what the feed's view shows: market anomalies, or data errors
  });
  smile.build();
  day.build();
  gex.build();
  redraw();
  renderFeed(select);
  renderGrades();
  renderStatus();
}

$("#lang").addEventListener("click", () => setLang(lang() === "en" ? "es" : "en"));
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
