// What the page knows: anomalies by id of every underlying (SignalR is at least once; the feed can show them all),
// the newest chain of each underlying, and for the underlying on screen its latest chain and the day's analytics.

import {covers} from "./incident.js";

const MAX_ANOMALIES = 5000;

export const store = {
  anomalies: new Map(),
  newestTs: null, // newest anomaly or chain ts seen: where a catch-up after a reconnect starts
  chain: null, // latest live chain analytics
  receivedAt: null, // wall time (ms) the latest chain arrived
  day: new Map(), // ts -> {t, atm, rr, move}, the analytics through the day (the underlying on screen)
  underlying: null, // the underlying on screen: the smile, analytics, GEX and (by default) the feed
  latest: new Map(), // underlying -> {ts, receivedAt}: the newest chain seen of each, for the selector
  outcomes: new Map(), // anomaly id -> {horizon: markout}: what the market did next (outcome.js)
};

const seen = (ts) => {
  if (!store.newestTs || ts > store.newestTs) store.newestTs = ts;
};

/** Add anomalies; returns how many were new to the page. */
export function addAnomalies(list) {
  let added = 0;
  for (const a of list) {
    if (!a || typeof a.id !== "string" || store.anomalies.has(a.id)) continue;
    store.anomalies.set(a.id, a);
    seen(a.ts);
    added++;
  }
  if (store.anomalies.size > MAX_ANOMALIES) {
    const oldest = [...store.anomalies.values()].sort((x, y) => (x.ts < y.ts ? -1 : 1));
    for (const a of oldest.slice(0, store.anomalies.size - MAX_ANOMALIES)) store.anomalies.delete(a.id);
  }
  return added;
}

const positive = (x) => (typeof x === "number" && x > 0 ? x : null); // 0: a fit that did not hold, not a level

/** Keep one point of the day's analytics per snapshot (a missing value is a gap, never a drop to 0). */
export function addDayPoint(chain) {
  if (!chain || !chain.ts) return;
  store.day.set(chain.ts, {t: Date.parse(chain.ts) / 1000, atm: pct(positive(chain.atm_iv)),
    rr: positive(chain.atm_iv) === null ? null : chain.rr25_vol_points ?? null, move: positive(chain.expected_move)});
}

/** Note the newest chain of any underlying; true when it is the newest of its underlying so far. */
export function noteChain(chain, receivedAt = Date.now()) {
  if (!chain || typeof chain.ts !== "string" || typeof chain.underlying !== "string") return false;
  const had = store.latest.get(chain.underlying);
  if (had && had.ts >= chain.ts) return false;
  store.latest.set(chain.underlying, {ts: chain.ts, receivedAt});
  return true;
}

/** Underlyings by their newest chain, freshest first. */
export const underlyings = () => [...store.latest.entries()].sort((a, b) => (a[1].ts < b[1].ts ? 1 : -1)).map(([u]) => u);

/** Show another underlying: what was drawn for the previous one goes (the anomalies stay, for the feed's "All"). */
export function showUnderlying(underlying) {
  store.underlying = underlying;
  store.chain = null;
  store.receivedAt = null;
  store.day.clear();
}

/** The live chain of the underlying on screen moves forward only (a late message never replaces a newer one). */
export function setChain(chain, receivedAt = Date.now()) {
  if (!chain || !chain.ts) return false;
  noteChain(chain, receivedAt);
  store.underlying ??= chain.underlying;
  if (chain.underlying !== store.underlying) return false;
  addDayPoint(chain);
  seen(chain.ts);
  if (store.chain && chain.ts < store.chain.ts) return false;
  store.chain = chain;
  store.receivedAt = receivedAt;
  return true;
}

export const pct = (x) => (typeof x === "number" && Number.isFinite(x) ? x * 100 : null);

const onScreen = (a) => a.underlying === store.underlying;

/** Anomalies found on the snapshot at `ts` of the underlying on screen. */
export const anomaliesAt = (ts) => [...store.anomalies.values()].filter((a) => a.ts === ts && onScreen(a));

/** Anomalies of the underlying on screen active around `ts` that `keep` accepts: reported within `seconds` before it (a continuing condition
 * is re-reported every 30 s, not on every snapshot), the newest per type and contract, and none that a newer
 * incident on its contract already stands for (the smile rings each incident once). */
export function activeAt(ts, seconds = 30, keep = () => true) {
  const end = Date.parse(ts);
  const newest = new Map();
  for (const a of store.anomalies.values()) {
    const at = Date.parse(a.ts);
    if (at > end || end - at > seconds * 1000 || !onScreen(a) || !keep(a)) continue;
    const key = `${a.type}|${a.right ?? ""}|${a.strike ?? ""}`;
    if (!newest.has(key) || newest.get(key).ts < a.ts) newest.set(key, a);
  }
  const active = [...newest.values()];
  return active.filter((a) => !active.some((b) => covers(b, a)));
}
