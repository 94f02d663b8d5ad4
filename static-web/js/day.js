// Chain analytics: the headline numbers, ATM IV / 25-delta RR / expected move through the day,
// and GEX by strike with its zero-gamma levels (the nearest to spot named, the rest on demand).

import {$, el, text} from "./dom.js";
import {COLORS, axis, makeChart, uPlot, vline} from "./charts.js";
import {compactMoney, money, num, signed, strike as fmtStrike, t, timeNY} from "./i18n.js";
import {store} from "./store.js";

const finite = (x) => typeof x === "number" && Number.isFinite(x);

const MISSING = "—";
const positive = (x) => finite(x) && x > 0; // an ATM IV or a move of 0 is a fit that did not hold, not a value

/** The zero-gamma levels to name: the two bracketing spot, or the one nearest it when spot is beyond them all. */
export function nearestLevels(levels, spot) {
  const sorted = levels.filter(finite).sort((a, b) => a - b);
  if (!finite(spot) || !sorted.length) return sorted.slice(0, 1);
  const below = sorted.filter((z) => z <= spot).pop();
  const above = sorted.find((z) => z > spot);
  if (below !== undefined && above !== undefined) return [below, above];
  return [below ?? above];
}

/** The nearest levels as text, the others behind a disclosure. */
function zeroGamma(levels, spot) {
  const near = nearestLevels(levels, spot);
  const rest = levels.filter((z) => finite(z) && !near.includes(z)).sort((a, b) => a - b);
  return [near.map(fmtStrike).join(" · "), rest.length ? el("details", {class: "more"},
    el("summary", {}, t("kpi.more", {n: rest.length})), rest.map(fmtStrike).join(" · ")) : null];
}

export function renderKpis(chain) {
  const q = chain?.data_quality?.grade;
  const zero = Array.isArray(chain?.gex?.zero_gamma) ? chain.gex.zero_gamma.filter(finite) : [];
  const or = (ok, value) => (chain && ok ? value() : MISSING);
  const rows = [
    ["kpi.spot", "kpi-spot", or(finite(chain?.spot), () => num(chain.spot, 2))],
    ["kpi.atm", "kpi-atm", or(positive(chain?.atm_iv), () => `${num(chain.atm_iv * 100, 1)} %`)],
    ["kpi.move", "kpi-move", or(positive(chain?.expected_move) && positive(chain?.atm_iv),
      () => `±${money(chain.expected_move)} (${num(chain.expected_move_pct, 2)} %)`)],
    ["kpi.rr", "kpi-rr", or(finite(chain?.rr25_vol_points), () => signed(chain.rr25_vol_points, 1))],
    ["kpi.gex", "kpi-gex", or(finite(chain?.gex?.total), () => compactMoney(chain.gex.total))],
    ["kpi.zero", "kpi-zero", !chain ? MISSING : zero.length ? zeroGamma(zero, chain.spot) : t("kpi.none")],
    ["kpi.quality", "kpi-quality", q ? t(`quality.${q}`) : MISSING],
  ];
  $("#kpis").replaceChildren(...rows.map(([label, id, value]) => el("div", {class: "kpi", id},
    el("dt", {}, t(label)), el("dd", {class: id === "kpi-quality" && q ? `q-${q}` : null}, value))));
}

/** A scale range at least `span` wide around the data's middle, so that noise does not fill the chart. */
export function atLeast(lo, hi, span) {
  if (!finite(lo) || !finite(hi)) return [0, 1];
  const mid = (lo + hi) / 2;
  const half = Math.max((hi - lo) / 2 * 1.1, span / 2);
  return [mid - half, mid + half];
}

const VOL_SPAN = 4; // vol points: ATM IV and the risk reversal move within a couple of points without filling it
const MOVE_SPAN = 0.2; // the expected move's axis spans at least ±10 % of its level

export class DayChart {
  constructor(root) { this.root = root; }

  build() {
    this.chart?.dispose();
    this.chart = makeChart(this.root, {
      legend: {show: true, live: false},
      cursor: {drag: {x: false, y: false}},
      scales: {x: {time: true}, y: {range: (u, lo, hi) => atLeast(lo, hi, VOL_SPAN)},
        move: {range: (u, lo, hi) => atLeast(lo, hi, MOVE_SPAN * Math.abs((lo + hi) / 2))}},
      axes: [axis({space: 90, values: (u, v) => v.map((s) => timeNY(new Date(s * 1000), u.scales.x.max - u.scales.x.min < 600))}),
        axis({label: t("axis.volpts"), values: (u, v) => v.map((y) => num(y, 1))}),
        axis({scale: "move", side: 1, label: t("axis.dollars"), grid: {show: false}, values: (u, v) => v.map((y) => num(y, u.scales.move.max - u.scales.move.min < 0.1 ? 3 : 2))})],
      series: [{}, {label: t("day.atm"), stroke: COLORS.call, width: 2, spanGaps: true},
        {label: t("day.rr"), stroke: COLORS.put, width: 2, spanGaps: true},
        {label: t("day.move"), stroke: COLORS.move, width: 2, scale: "move", spanGaps: true, dash: [6, 4]}],
      hooks: {draw: [(u) => { // the spans drawn, for the tests
        this.root.dataset.volSpan = String(u.scales.y.max - u.scales.y.min);
        this.root.dataset.moveSpan = String(u.scales.move.max - u.scales.move.min);
      }]},
    }, [[], [], [], []]);
    this.update();
  }

  update() {
    const points = [...store.day.values()].sort((a, b) => a.t - b.t);
    this.chart.setData([points.map((p) => p.t), points.map((p) => p.atm), points.map((p) => p.rr), points.map((p) => p.move)]);
    this.root.dataset.points = String(points.length);
  }
}

export class GexChart {
  constructor(root) { this.root = root; this.chain = null; }

  build() {
    this.chart?.dispose();
    const bars = uPlot.paths.bars({size: [0.8, 40]});
    this.chart = makeChart(this.root, {
      legend: {show: true, live: false},
      cursor: {drag: {x: false, y: false}},
      scales: {x: {time: false}},
      axes: [axis({label: t("axis.strike"), values: (u, v) => v.map(fmtStrike)}),
        axis({label: t("axis.gex"), size: 84, values: (u, v) => v.map(compactMoney)})],
      series: [{}, {label: t("gex.pos"), fill: COLORS.positive, stroke: COLORS.positive, paths: bars, points: {show: false}},
        {label: t("gex.neg"), fill: COLORS.negative, stroke: COLORS.negative, paths: bars, points: {show: false}}],
      hooks: {draw: [(u) => {
        vline(u, this.chain?.spot, COLORS.spot, t("smile.spot"));
        const levels = Array.isArray(this.chain?.gex?.zero_gamma) ? this.chain.gex.zero_gamma.filter(finite) : [];
        const named = nearestLevels(levels, this.chain?.spot);
        for (const z of levels) { // the nearest named and drawn bold, the others faint
          vline(u, z, named.includes(z) ? COLORS.selected : COLORS.grid, named.includes(z)
            ? `${t("gex.zero")} ${fmtStrike(z)}` : "", [6, 4], 2 + named.indexOf(z));
        }
      }]},
    }, [[], [], []]);
    if (this.chain) this.update(this.chain);
  }

  update(chain) {
    this.chain = chain;
    this.root.dataset.underlying = chain?.underlying ?? "";
    this.root.dataset.ts = chain?.ts ?? "";
    const g = chain?.gex ?? {};
    const strikes = Array.isArray(g.strikes) ? g.strikes : [];
    const values = Array.isArray(g.by_strike) ? g.by_strike : [];
    const order = strikes.map((k, i) => [k, values[i]]).filter(([k]) => finite(k)).sort((a, b) => a[0] - b[0]);
    this.chart.setData([order.map(([k]) => k), order.map(([, v]) => (finite(v) && v >= 0 ? v : null)),
      order.map(([, v]) => (finite(v) && v < 0 ? v : null))]);
    text("#gex-units", t("gex.units"));
  }
}
