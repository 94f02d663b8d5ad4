// Evidence in words, in the page's language, from the anomaly's numbers; the detector's own sentence otherwise.
// Works on a record or on one of an incident's facets (given as {type, edge, evidence: {...numbers, summary}}).

import {lang, money, num, signed, t} from "./i18n.js";

const finite = (x) => typeof x === "number" && Number.isFinite(x);

/** [words in the page's language or null, the detector's summary (English, untrusted text)]. */
export function evidenceWords(a) {
  const e = a.evidence && typeof a.evidence === "object" ? a.evidence : {};
  const summary = typeof e.summary === "string" ? e.summary : "";
  let words = null;
  if (a.type === "iv_jump" && e.event === "smile_shift") { // chain-level: the whole smile moved
    words = finite(e.change_vol_points) ? t("ev.smile_shift", {vol: signed(e.change_vol_points, 1)})
      : t("ev.smile_shift.lines", {n: num(e.count, 0)});
  } else if (a.type !== "data_error" && typeof e.rule === "string" && e.rule.endsWith(".chain_event")) {
    words = t("ev.chain_event", {n: num(e.count, 0)});
  } else if (a.type === "mispricing" && finite(e.vol_points)) {
    words = t("ev.mispricing", {vol: num(Math.abs(e.vol_points), 1), dir: t(e.vol_points >= 0 ? "ev.above" : "ev.below"),
      side: t(e.side === "rich" ? "ev.rich" : "ev.cheap"), edge: money(a.edge)});
  } else if (a.type === "volume_spike" && finite(e.interval_volume) && finite(e.interval_seconds)) {
    const usual = finite(e.baseline_per_second) && e.baseline_per_second > 0
      ? e.interval_volume / (e.baseline_per_second * e.interval_seconds) : null;
    words = t("ev.volume_spike", {n: num(e.interval_volume, 0), s: num(e.interval_seconds, 0), x: num(usual, 0)});
  } else if (a.type === "iv_jump" && finite(e.residual_vol_points)) {
    words = t("ev.iv_jump", {vol: num(e.residual_vol_points, 1)});
  } else if (a.type === "spread_blowout" && finite(e.spread) && finite(e.ratio)) {
    words = t("ev.spread_blowout", {spread: money(e.spread), x: num(e.ratio, 1)});
  } else if (a.type === "parity" && finite(e.excess)) {
    words = t("ev.parity", {side: t(e.direction === "put rich" ? "ev.put_rich" : "ev.call_rich"), excess: money(e.excess),
      edge: money(a.edge), after: money(e.edge_after_fees)});
  } else if (a.type === "arbitrage" && finite(e.credit)) {
    words = t("ev.arbitrage", {legs: Array.isArray(e.legs) ? e.legs.join(" / ") : "", credit: money(e.credit),
      edge: money(a.edge), after: money(e.edge_after_fees)});
  } else if (a.type === "data_error") {
    const known = ["nonfinite", "crossed", "negative", "missing_ask", "volume_decreased", "duplicate", "out_of_order",
      "stale", "after_close", "spot_mismatch", "stale_quote", "outlier", "fit_unstable", "forward", "quotes_inconsistent"];
    words = t(known.includes(e.subtype) ? `ev.data.${e.subtype}` : "ev.data.other");
    if (e.subtype === "stale_quote" && finite(e.age_s)) words += ` ${t("ev.data.age", {s: num(e.age_s, 0)})}`;
  }
  // English readers get the detector's sentence itself (it says more); others get both
  if (lang() === "en" && summary) return [null, summary];
  return [words, summary];
}
