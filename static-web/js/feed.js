// The anomaly feed: newest first, one row per running condition (new, then continuing) and one row per
// incident, its other faces as chips with their evidence; chain-level findings as chain rows. Market
// anomalies and data errors are separate views (market by default); filters act on whole incidents. The feed shows
// the underlying on screen, or every underlying (each row then names its own).

import {$, $$, el, text} from "./dom.js";
import {evidenceWords} from "./evidence.js";
import {VIEWS, facetsOf, isChainLevel, typesOf} from "./incident.js";
import {contract, money, num, t, timeNY} from "./i18n.js";
import {markoutChips} from "./outcome.js";
import {store} from "./store.js";

const SHOWN = 200;
const MARKET_TYPES = ["mispricing", "parity", "arbitrage", "volume_spike", "spread_blowout", "iv_jump"];
const SEVERITIES = ["high", "medium", "low"];
const LISTED = 12; // lines of a chain-level finding named in its row (its evidence lists up to 40)
let view = "market";
let scope = "one"; // "one": the underlying on screen; "all": every underlying

const severityOf = (x) => (["low", "medium", "high"].includes(x) ? x : "low");
const finite = (x) => typeof x === "number" && Number.isFinite(x);

/** The condition an anomaly belongs to: the same type and contract since the same first_seen. */
const conditionKey = (a) => [a.type, a.right ?? "", a.strike ?? "", a.evidence?.first_seen ?? a.ts].join("|");

/** Which view the feed shows: "market" or "data" (data errors). The smile marks the same kind. */
export const currentView = () => view;

export function filters() {
  return {view, type: view === "market" ? $("#f-type").value : "", severity: $("#f-severity").value,
    right: $("#f-right").value, underlying: scope === "all" ? "" : store.underlying ?? ""};
}

const inScope = (a, f) => !f.underlying || a.underlying === f.underlying;

/** A type filter matches an incident by its primary type or any of its facets. */
export function matches(a, f) {
  return VIEWS[f.view ?? "market"](a) && inScope(a, f) && (!f.type || typesOf(a).includes(f.type))
    && (!f.severity || a.severity === f.severity) && (!f.right || a.right === f.right);
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

/** Fill the filter selects and wire the view buttons (labels follow the language; the choices stay). */
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
  fill($("#f-type"), MARKET_TYPES, (v) => t(`type.${v}`));
  fill($("#f-severity"), SEVERITIES, (v) => t(`severity.${v}`));
  fill($("#f-right"), ["C", "P"], (v) => t(v === "C" ? "feed.calls" : "feed.puts"));
  const scopes = $("#f-scope");
  scopes.replaceChildren(el("option", {value: "one"}, store.underlying ?? t("feed.scope.one")),
    el("option", {value: "all"}, t("feed.scope.all")));
  scopes.value = scope;
  if (!scopes.dataset.wired) {
    scopes.addEventListener("change", () => {
      scope = scopes.value;
      onChange();
    });
    scopes.dataset.wired = "1";
  }
  for (const button of $$("#views button")) {
    if (button.dataset.wired) continue;
    button.addEventListener("click", () => {
      view = button.dataset.view;
      onChange();
    });
    button.dataset.wired = "1";
  }
}

/** An incident's other faces, as chips. */
function facetChips(facets) {
  return el("span", {class: "a-facets"}, el("span", {class: "visually-hidden"}, t("feed.also")),
    ...facets.map((f) => el("span", {class: `facet sev-${severityOf(f.severity)}`, dataset: {type: f.type}},
      t(`type.${f.type}`))));
}

/** Each facet's own evidence under the primary's: the combined evidence of the incident. */
function facetWords(facets) {
  return el("span", {class: "a-facet-words"}, ...facets.map((f) => {
    const evidence = f.evidence && typeof f.evidence === "object" ? f.evidence : {};
    const [words, summary] = evidenceWords({type: f.type, edge: f.edge, evidence: {...evidence, summary: f.summary}});
    return el("span", {class: "a-facet-line", dataset: {type: f.type}}, el("strong", {}, t(`type.${f.type}`)), " ",
      el("span", {lang: words ? null : "en"}, words ?? summary));
  }));
}

/** The lines a chain-level finding stands for, from its evidence. */
function chainLines(a) {
  const e = a.evidence ?? {};
  const names = Array.isArray(e.contracts) ? e.contracts.filter((c) => typeof c === "string") : [];
  const n = finite(e.count) ? e.count : names.length;
  if (!n) return null;
  const list = names.slice(0, LISTED).join(", ") + (n > Math.min(names.length, LISTED) ? " …" : "");
  return el("span", {class: "a-lines"}, t("feed.lines", {n: num(n, 0), list}));
}

function item(a, onSelect) {
  const isNew = a.evidence?.state === "new";
  const facets = facetsOf(a);
  const chain = isChainLevel(a);
  const where = scope === "all" ? `${a.underlying} ${contract(a.right, a.strike)}` : contract(a.right, a.strike);
  const what = `${typesOf(a).map((x) => t(`type.${x}`)).join(" + ")} ${where}`;
  const [words, summary] = evidenceWords(a);
  const severity = severityOf(a.severity);
  return el("li", {class: `anomaly sev-${severity}${chain ? " chain-row" : ""}`, dataset: {id: a.id, type: a.type,
    underlying: typeof a.underlying === "string" ? a.underlying : "",
    types: typesOf(a).join(" "), severity, right: a.right ?? "", strike: chain ? "" : String(a.strike),
    chain: chain ? "true" : null}},
  el("button", {type: "button", class: "anomaly-open", "aria-label": t("feed.open", {what}), onclick: () => onSelect(a)},
    el("span", {class: "a-time"}, timeNY(a.ts)),
    el("span", {class: `a-sev sev-${severity}`}, t(`severity.${severity}`)),
    el("span", {class: "a-type"}, t(`type.${a.type}`)),
    el("span", {class: "a-contract"}, where),
    el("span", {class: "a-edge"}, a.edge === null || a.edge === undefined ? t("feed.noedge") : t("feed.edge", {value: money(a.edge)})),
    el("span", {class: isNew ? "a-state new" : "a-state continuing"},
      isNew ? t("state.new") : t("state.continuing", {time: timeNY(a.evidence?.first_seen ?? a.ts)})),
    facets.length ? facetChips(facets) : null,
    el("span", {class: "a-words", lang: words ? null : "en"}, words ?? summary),
    facets.length ? facetWords(facets) : null,
    chain ? chainLines(a) : null,
    markoutChips(a.id)),
  words && summary ? el("details", {class: "a-detail"}, el("summary", {}, t("ev.detail")),
    el("span", {lang: "en"}, summary)) : null);
}

/** Redraw the list, keeping keyboard focus on the same entry. */
export function renderFeed(onSelect) {
  const list = $("#feed-list");
  const focused = document.activeElement?.closest?.("li.anomaly")?.dataset.id;
  const f = filters();
  const all = conditions().filter((a) => inScope(a, f));
  const inView = all.filter((a) => VIEWS[view](a));
  const shown = inView.filter((a) => matches(a, f)).slice(0, SHOWN);
  list.replaceChildren(...shown.map((a) => item(a, onSelect)));
  for (const button of $$("#views button")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
    text(button.querySelector(".count"), num(all.filter(VIEWS[button.dataset.view]).length, 0));
  }
  $("#f-type").closest("label").hidden = view !== "market"; // data errors have no market type to filter by
  list.dataset.view = view;
  list.dataset.scope = scope;
  text("#feed-count", t("feed.count", {shown: shown.length, total: inView.length}));
  text("#feed-empty", t(view === "market" ? "feed.empty" : "feed.empty.data"));
  $("#feed-empty").hidden = shown.length > 0;
  if (focused) list.querySelector(`li[data-id="${CSS.escape(focused)}"] button`)?.focus();
}
