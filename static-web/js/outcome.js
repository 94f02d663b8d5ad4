// What the market did next with each alert's trade (anomaly/1 `outcome`, SignalR target `outcome`): the markouts on
// each feed row as they arrive, and the day's grading of the alert types.

import {el, text} from "./dom.js";
import {money, num, t} from "./i18n.js";
import {store} from "./store.js";

export const HORIZONS = ["5s", "30s", "2m", "5m", "settle"];
const finite = (x) => typeof x === "number" && Number.isFinite(x);
const HORIZON_SET = new Set(HORIZONS);

/** Keep one horizon of an alert's outcome (an `outcome` message, or one read off an anomaly); true when new. */
export function addOutcome(id, horizon, mark) {
  if (typeof id !== "string" || !HORIZON_SET.has(horizon) || !mark || typeof mark !== "object") return false;
  const known = store.outcomes.get(id) ?? {};
  if (known[horizon]) return false;
  store.outcomes.set(id, {...known, [horizon]: mark});
  return true;
}

/** An `outcome` message: {anomaly_id, type, severity, horizon, status, mid, exit, ...}. */
export const onOutcome = (m) => addOutcome(m?.anomaly_id, m?.horizon, m);

/** The horizons an anomaly row shows: "5s +$3.20", or a dash for a missing one, with its reason as a title. */
export function markoutChips(id) {
  const marks = store.outcomes.get(id);
  if (!marks) return null;
  return el("span", {class: "a-markouts", "aria-label": t("outcome.label")},
    ...HORIZONS.filter((h) => marks[h]).map((h) => {
      const m = marks[h];
      const ok = m.status === "ok" && finite(m.mid);
      return el("span", {class: `markout ${ok ? (m.mid > 0 ? "pos" : "neg") : "missing"}`,
        dataset: {horizon: h, mid: ok ? String(m.mid) : ""}, title: ok ? null : (m.reason ?? t("outcome.missing"))},
      `${t(`horizon.${h}`)} ${ok ? money(m.mid) : "–"}`);
    }));
}

/** Per alert type of the underlying on screen: graded alerts, and per horizon the mean markout to mid and the share
 * positive. */
export function grades() {
  const byType = new Map();
  for (const [id, marks] of store.outcomes) {
    const type = store.anomalies.get(id)?.type ?? Object.values(marks).find((m) => m.type)?.type;
    const underlying = store.anomalies.get(id)?.underlying ?? Object.values(marks).find((m) => m.underlying)?.underlying;
    if (!type || (store.underlying && underlying && underlying !== store.underlying)) continue;
    const g = byType.get(type) ?? {type, alerts: 0, horizons: Object.fromEntries(HORIZONS.map((h) => [h, []]))};
    g.alerts++;
    for (const h of HORIZONS) if (marks[h]?.status === "ok" && finite(marks[h].mid)) g.horizons[h].push(marks[h].mid);
    byType.set(type, g);
  }
  return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1)).map((g) => ({type: g.type, n: g.alerts,
    horizons: Object.fromEntries(HORIZONS.map((h) => {
      const xs = g.horizons[h];
      return [h, xs.length ? {n: xs.length, mean: xs.reduce((s, x) => s + x, 0) / xs.length,
        positive: xs.filter((x) => x > 0).length / xs.length} : null];
    }))}));
}

/** The grading panel's table. */
export function renderGrades() {
  const rows = grades();
  const table = document.querySelector("#grades-table");
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, t("grades.type")), el("th", {scope: "col"}, t("grades.n")),
      ...HORIZONS.map((h) => el("th", {scope: "col"}, t(`horizon.${h}`))))),
    el("tbody", {}, ...rows.map((g) => el("tr", {dataset: {type: g.type}},
      el("th", {scope: "row"}, t(`type.${g.type}`)), el("td", {}, num(g.n, 0)),
      ...HORIZONS.map((h) => {
        const c = g.horizons[h];
        return el("td", {class: c ? (c.mean > 0 ? "pos" : "neg") : null, dataset: {horizon: h, mean: c ? String(c.mean) : ""}},
          c ? t("grades.cell", {mean: money(c.mean), share: num(100 * c.positive, 0)}) : "–");
      })))));
  text("#grades-empty", rows.length ? "" : t("grades.empty"));
  document.querySelector("#grades-empty").hidden = rows.length > 0;
}
