// Chain analytics: the headline numbers, ATM IV / 25-delta RR / expected move through the day,
// and GEX by strike with every zero-gamma level.

import {$, el, text} from "./dom.js";
import {COLORS, axis, makeChart, uPlot, vline} from "./charts.js";
import {compactMoney, money, num, signed, strike as fmtStrike, t, timeNY} from "./i18n.js";
import {store} from "./store.js";

const finite = (x) => typeof x === "number" && Number.isFinite(x);

/** The zero-gamma levels nearest spot, at most three, and how many more the chart shows. */
function nearest(levels, spot) {
  const near = [...levels].sort((a, b) => Math.abs(a - spot) - Math.abs(b - spot)).slice(0, 3).sort((a, b) => a - b);
  const more = levels.length - near.length;
  return near.map(fmtStrike).join(" · ") + (more > 0 ? ` (+${more})` : "");
}

export function renderKpis(chain) {
  const q = chain?.data_quality?.grade;
  const zero = chain?.gex?.zero_gamma ?? [];
  const rows = [
    ["kpi.spot", "kpi-spot", chain ? num(chain.spot, 2) : "–"],
    ["kpi.atm", "kpi-atm", chain && finite(chain.atm_iv) ? `${num(chain.atm_iv * 100, 1)} %` : "–"],
    ["kpi.move", "kpi-move", chain && finite(chain.expected_move)
      ? `±${money(chain.expected_move)} (${num(chain.expected_move_pct, 2)} %)` : "–"],
    ["kpi.rr", "kpi-rr", chain ? signed(chain.rr25_vol_points, 1) : "–"],
    ["kpi.gex", "kpi-gex", chain ? compactMoney(chain.gex?.total) : "–"],
    ["kpi.zero", "kpi-zero", !chain ? "–" : zero.length ? nearest(zero, chain.spot) : t("kpi.none")],
    ["kpi.quality", "kpi-quality", q ? t(`quality.${q}`) : "–"],
  ];
  $("#kpis").replaceChildren(...rows.map(([label, id, value]) => el("div", {class: "kpi", id},
    el("dt", {}, t(label)), el("dd", {class: id === "kpi-quality" && q ? `q-${q}` : null}, value))));
}

export class DayChart {
  constructor(root) { this.root = root; }

  build() {
    this.chart?.dispose();
    this.chart = makeChart(this.root, {
      legend: {show: true, live: false},
      cursor: {drag: {x: false, y: false}},
      scales: {x: {time: true}, move: {}},
      axes: [axis({space: 90, values: (u, v) => v.map((s) => timeNY(new Date(s * 1000), u.scales.x.max - u.scales.x.min < 600))}),
        axis({label: t("axis.volpts"), values: (u, v) => v.map((y) => num(y, 1))}),
        axis({scale: "move", side: 1, label: t("axis.dollars"), grid: {show: false}, values: (u, v) => v.map((y) => num(y, u.scales.move.max - u.scales.move.min < 0.1 ? 3 : 2))})],
      series: [{}, {label: t("day.atm"), stroke: COLORS.call, width: 2, spanGaps: true},
        {label: t("day.rr"), stroke: COLORS.put, width: 2, spanGaps: true},
        {label: t("day.move"), stroke: COLORS.move, width: 2, scale: "move", spanGaps: true, dash: [6, 4]}],
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
        let lastLabel = -Infinity; // label a level only where it does not overprint the previous label
        for (const z of [...(this.chain?.gex?.zero_gamma ?? [])].sort((a, b) => a - b)) {
          const x = u.valToPos(z, "x");
          const label = x - lastLabel > 90 ? `${t("gex.zero")} ${fmtStrike(z)}` : "";
          if (label) lastLabel = x;
          vline(u, z, COLORS.selected, label, [6, 4], 2);
        }
      }]},
    }, [[], [], []]);
    if (this.chain) this.update(this.chain);
  }

  update(chain) {
    this.chain = chain;
    const g = chain?.gex ?? {};
    const strikes = Array.isArray(g.strikes) ? g.strikes : [];
    const values = Array.isArray(g.by_strike) ? g.by_strike : [];
    const order = strikes.map((k, i) => [k, values[i]]).filter(([k]) => finite(k)).sort((a, b) => a[0] - b[0]);
    this.chart.setData([order.map(([k]) => k), order.map(([, v]) => (finite(v) && v >= 0 ? v : null)),
      order.map(([, v]) => (finite(v) && v < 0 ? v : null))]);
    text("#gex-units", t("gex.units"));
  }
}
