// The anomaly feed: newest first, one entry per running condition (new, then continuing), filterable.

import {$, el, text} from "./dom.js";
import {evidenceWords} from "./evidence.js";
import {contract, money, t, timeNY} from "./i18n.js";
import {store} from "./store.js";

const SHOWN = 200;
const TYPES = ["mispricing", "parity", "arbitrage", "volume_spike", "spread_blowout", "iv_jump", "data_error"];
const SEVERITIES = ["high", "medium", "low"];

/** The condition an anomaly belongs to: the same type and contract since the same first_seen. */
const conditionKey = (a) => [a.type, a.right ?? "", a.strike ?? "", a.evidence?.first_seen ?? a.ts].join("|");

export function filters() {
  return {type: $("#f-type").value, severity: $("#f-severity").value, right: $("#f-right").value};
}

export function matches(a, f) {
  return (!f.type || a.type === f.type) && (!f.severity || a.severity === f.severity) && (!f.right || a.right === f.right);
}

/** Newest occurrence of every condition, newest first. */
export function conditions() {
  const newest = new Map();
  for (const a of store.anomalies.values()) {
    const key = conditionKey(a);
    const had = newest.get(key);
    if (!had || a.ts > had.ts) newest.set(key, a);
  }
  return [...newest.values()].sort((x, y) => (x.ts === y.ts ? (y.score ?? 0) - (x.score ?? 0) : x.ts < y.ts ? 1 : -1));
}

/** Fill the filter selects (option labels follow the language; the chosen values stay). */
export function buildFilters(onChange) {
  const fill = (select, values, label) => {
    const chosen = select.value;
    select.replaceChildren(el("option", {value: ""}, t("feed.all")), ...values.map((v) => el("option", {value: v}, label(v))));
    select.value = chosen;
    if (!select.dataset.wired) {
      select.addEventListener("change", onChange);
      select.dataset.wired = "1";
    }
  };
  fill($("#f-type"), TYPES, (v) => t(`type.${v}`));
  fill($("#f-severity"), SEVERITIES, (v) => t(`severity.${v}`));
  fill($("#f-right"), ["C", "P"], (v) => t(v === "C" ? "feed.calls" : "feed.puts"));
}

function item(a, onSelect) {
  const isNew = a.evidence?.state === "new";
  const what = `${t(`type.${a.type}`)} ${contract(a.right, a.strike)}`;
  const [words, summary] = evidenceWords(a);
  const severity = ["low", "medium", "high"].includes(a.severity) ? a.severity : "low";
  return el("li", {class: `anomaly sev-${severity}`, dataset: {id: a.id, type: a.type, severity, right: a.right ?? ""}},
    el("button", {type: "button", class: "anomaly-open", "aria-label": t("feed.open", {what}), onclick: () => onSelect(a)},
      el("span", {class: "a-time"}, timeNY(a.ts)),
      el("span", {class: `a-sev sev-${severity}`}, t(`severity.${severity}`)),
      el("span", {class: "a-type"}, t(`type.${a.type}`)),
      el("span", {class: "a-contract"}, contract(a.right, a.strike)),
      el("span", {class: "a-edge"}, a.edge === null || a.edge === undefined ? t("feed.noedge") : t("feed.edge", {value: money(a.edge)})),
      el("span", {class: isNew ? "a-state new" : "a-state continuing"},
        isNew ? t("state.new") : t("state.continuing", {time: timeNY(a.evidence?.first_seen ?? a.ts)})),
      el("span", {class: "a-words", lang: words ? null : "en"}, words ?? summary)),
    words && summary ? el("details", {class: "a-detail"}, el("summary", {}, t("ev.detail")),
      el("span", {lang: "en"}, summary)) : null);
}

/** Redraw the list, keeping keyboard focus on the same entry. */
export function renderFeed(onSelect) {
  const list = $("#feed-list");
  const focused = document.activeElement?.closest?.("li.anomaly")?.dataset.id;
  const all = conditions();
  const f = filters();
  const shown = all.filter((a) => matches(a, f)).slice(0, SHOWN);
  list.replaceChildren(...shown.map((a) => item(a, onSelect)));
  text("#feed-count", t("feed.count", {shown: shown.length, total: all.length}));
  $("#feed-empty").hidden = shown.length > 0;
  if (focused) list.querySelector(`li[data-id="${CSS.escape(focused)}"] button`)?.focus();
}
