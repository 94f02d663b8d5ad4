// The smile: per contract the bid-IV..ask-IV range and the mid, calls and puts, the fitted smile,
// spot and forward, and the snapshot's anomalies as clickable rings (also listed as buttons for keyboards).
// By default only the out-of-the-money lines: deep in-the-money bid-to-ask IV ranges are tall bars that say little
// and hide the smile; a toggle (remembered) draws every line.

import {el} from "./dom.js";
import {COLORS, axis, makeChart, vline} from "./charts.js";
import {contract, num, strike as fmtStrike, t} from "./i18n.js";

const finite = (x) => typeof x === "number" && Number.isFinite(x);
const pct = (x) => (finite(x) ? x * 100 : null);

/** Whether a strike lies inside the moneyness range the smile was fitted on (z = ln(K/F) / (ATM vol * sqrt(t))):
 * outside it the fitted curve is an extrapolation and is not drawn. */
function fittedRange(chain) {
  const [lo, hi] = chain?.fit?.z_range ?? [];
  const sd = (chain?.fit?.atm_vol ?? chain?.atm_iv) * Math.sqrt(chain?.t_years ?? NaN);
  const f = chain?.forward ?? chain?.spot;
  if (![lo, hi, sd, f].every(finite) || sd <= 0) return () => true;
  return (k) => {
    const z = Math.log(k / f) / sd;
    return z >= lo - 1e-9 && z <= hi + 1e-9;
  };
}

const LINES_KEY = "spyglass.smile.all";
const NEAR = 0.0025; // the band around the forward (a fraction of it) where both calls and puts are drawn

/** Whether a line is drawn: every line, or out of the money (calls above the forward, puts below) or near it. */
export function shownLine(right, k, forward, all = false) {
  if (all || !finite(forward)) return true;
  const band = NEAR * forward;
  return right === "C" ? k >= forward - band : k <= forward + band;
}

/** Columns by strike for uPlot: x, call mid, put mid, fit, and the call/put bid and ask IVs (in %). */
export function smileData(chain, all = true) {
  const f = chain?.forward ?? chain?.spot;
  const c = chain?.contracts;
  const rows = new Map();
  if (!c || !Array.isArray(c.strike)) return {x: [], cols: {cm: [], pm: [], cb: [], ca: [], pb: [], pa: [], fit: []}};
  for (let i = 0; i < c.strike.length; i++) {
    const k = c.strike[i];
    if (!finite(k)) continue;
    const side = c.right[i] === "C" ? "c" : "p";
    const row = rows.get(k) ?? {fit: []};
    if (shownLine(c.right[i], k, f, all)) {
      row[`${side}m`] = pct(c.mid_iv?.[i]);
      row[`${side}b`] = pct(c.bid_iv?.[i]);
      row[`${side}a`] = pct(c.ask_iv?.[i]);
    }
    if (finite(c.fitted_iv?.[i])) row.fit.push(c.fitted_iv[i] * 100);
    rows.set(k, row);
  }
  const x = [...rows.keys()].filter((k) => {
    const r = rows.get(k);
    return [r.cm, r.pm, r.cb, r.ca, r.pb, r.pa].some(finite) || r.fit.length > 0;
  }).sort((a, b) => a - b);
  const col = (name) => x.map((k) => rows.get(k)[name] ?? null);
  const inFit = fittedRange(chain);
  const fit = x.map((k) => (rows.get(k).fit.length && inFit(k)
    ? rows.get(k).fit.reduce((s, v) => s + v, 0) / rows.get(k).fit.length : null));
  return {x, cols: {cm: col("cm"), pm: col("pm"), cb: col("cb"), ca: col("ca"), pb: col("pb"), pa: col("pa"), fit}};
}

export class SmileChart {
  constructor(root, list, onSelect) {
    this.root = root;
    this.list = list;
    this.onSelect = onSelect;
    this.markers = [];
    this.chain = null;
    this.anomalies = [];
    this.selectedId = null;
    this.all = false;
    try { this.all = localStorage.getItem(LINES_KEY) === "1"; } catch { /* storage may be disabled */ }
  }

  /** Every line, or the out-of-the-money ones (the default); remembered. */
  setAll(all) {
    this.all = Boolean(all);
    try { localStorage.setItem(LINES_KEY, this.all ? "1" : "0"); } catch { /* not remembered, still shown */ }
    if (this.chain) this.update(this.chain, this.anomalies, this.selectedId, this.caption);
  }

  /** The lines drawn, by right: which strikes have a mid or a bid-to-ask range on the chart. */
  lines() {
    const {x, cols} = this.data ?? {x: [], cols: {}};
    const drawn = (m, b, a) => x.filter((k, i) => finite(m?.[i]) || (finite(a?.[i]) && finite(b?.[i] ?? 0)));
    return {C: drawn(cols.cm, cols.cb, cols.ca), P: drawn(cols.pm, cols.pb, cols.pa)};
  }

  build() {
    this.chart?.dispose();
    const point = (color, fill) => ({show: true, size: 7, stroke: color, fill, width: 2});
    this.chart = makeChart(this.root, {
      legend: {show: true, live: false},
      cursor: {drag: {x: false, y: false}, points: {show: false}},
      scales: {x: {time: false, range: (u, lo, hi) => this.xRange(lo, hi)}, y: {range: () => this.yRange()}},
      axes: [axis({label: t("axis.strike"), values: (u, v) => v.map(fmtStrike)}),
        axis({label: t("axis.iv"), values: (u, v) => v.map((y) => num(y, 0))})],
      series: [
        {},
        {label: t("smile.calls"), stroke: COLORS.call, paths: () => null, points: point(COLORS.call, COLORS.call)},
        {label: t("smile.puts"), stroke: COLORS.put, paths: () => null, points: point(COLORS.put, "#14181c")},
        {label: t("smile.fit"), stroke: COLORS.fit, width: 2, spanGaps: true, points: {show: false}},
      ],
      hooks: {draw: [(u) => this.overlay(u)]},
    }, [[], [], [], []]);
    this.chart.over.addEventListener("click", (e) => {
      const hit = this.hit(e.offsetX, e.offsetY);
      if (hit) this.onSelect(hit);
    });
    this.chart.over.addEventListener("mousemove", (e) => {
      this.chart.over.style.cursor = this.hit(e.offsetX, e.offsetY) ? "pointer" : "";
    });
    if (this.chain) this.update(this.chain, this.anomalies, this.selectedId, this.caption);
  }

  /** The strikes with an out-of-the-money mid, a fitted value or an anomaly, one strike either side. */
  xRange(lo, hi) {
    const {x, cols} = this.data ?? {x: [], cols: {}};
    const f = this.chain?.forward ?? this.chain?.spot;
    const marked = new Set(this.anomalies.map((a) => a.strike));
    const useful = x.filter((k, i) => finite(cols.fit[i]) || finite(k >= f ? cols.cm[i] : cols.pm[i]) || marked.has(k));
    if (useful.length < 2) return [lo, hi];
    const step = Math.max(Math.min(...useful.slice(1).map((k, i) => k - useful[i])), 0.5);
    return [useful[0] - step, useful[useful.length - 1] + step];
  }

  /** 0 to a little above the out-of-the-money mids and the fit, at most 3x ATM IV: deep in-the-money
   * IVs (and sub-penny wings) are noise that would flatten the smile into a line. */
  yRange() {
    const {x, cols} = this.data ?? {x: [], cols: {}};
    const f = this.chain?.forward ?? this.chain?.spot;
    const vals = [];
    for (let i = 0; i < x.length; i++) vals.push(cols.fit[i], x[i] >= f ? cols.cm[i] : cols.pm[i]);
    const atm = finite(this.chain?.atm_iv) ? this.chain.atm_iv * 100 : null;
    let hi = Math.max(...vals.filter(finite), 1);
    if (atm) hi = Math.min(hi, 3 * atm);
    return [0, Math.ceil(hi * 1.1)];
  }

  hit(x, y) {
    let best = null;
    let bestD = 14;
    for (const m of this.markers) {
      const d = Math.hypot(m.x - x, m.y - y);
      if (d < bestD) { best = m.anomaly; bestD = d; }
    }
    return best;
  }

  update(chain, anomalies, selectedId = null, caption = "smile.recent") {
    this.caption = caption;
    this.chain = chain;
    this.anomalies = anomalies;
    this.selectedId = selectedId;
    this.data = smileData(chain, this.all);
    const {x, cols} = this.data;
    this.chart.setData([x, cols.cm, cols.pm, cols.fit]);
    this.root.dataset.lines = this.all ? "all" : "otm";
    this.root.dataset.ts = chain?.ts ?? "";
    this.root.dataset.points = String(x.length);
    this.root.dataset.anomalies = String(anomalies.filter((a) => finite(a.strike)).length);
    this.renderList();
  }

  renderList() {
    const onChart = this.anomalies.filter((a) => finite(a.strike));
    const buttons = onChart.map((a) => el("button", {type: "button", class: `chip sev-${a.severity}`,
      "aria-pressed": a.id === this.selectedId ? "true" : "false", dataset: {id: a.id}, onclick: () => this.onSelect(a)},
    `${t(`type.${a.type}`)} · ${contract(a.right, a.strike)}`));
    this.list.replaceChildren(el("span", {class: "chips-label"}, onChart.length ? t(this.caption ?? "smile.recent") : t("smile.none")), ...buttons);
  }

  /** Ranges, spot/forward lines and anomaly rings, drawn on uPlot's canvas after each redraw. */
  overlay(u) {
    const {x, cols} = this.data ?? {x: [], cols: {}};
    const ctx = u.ctx;
    const dpr = devicePixelRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    ctx.lineWidth = 2 * dpr;
    for (const [lo, hi, color, dx] of [[cols.cb, cols.ca, COLORS.call, -2], [cols.pb, cols.pa, COLORS.put, 2]]) {
      if (!lo) continue;
      ctx.strokeStyle = color;
      ctx.globalAlpha = 0.55;
      ctx.beginPath();
      for (let i = 0; i < x.length; i++) {
        const a = lo[i] ?? 0; // no bid: the market only bounds the IV from above
        const b = hi[i];
        if (!finite(a) || !finite(b)) continue;
        const px = u.valToPos(x[i], "x", true) + dx * dpr;
        ctx.moveTo(px, u.valToPos(a, "y", true));
        ctx.lineTo(px, u.valToPos(b, "y", true));
      }
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.restore();
    vline(u, this.chain?.spot, COLORS.spot, `${t("smile.spot")} ${num(this.chain?.spot, 2)}`);
    vline(u, this.chain?.forward, COLORS.forward, `${t("smile.forward")} ${num(this.chain?.forward, 2)}`, [4, 4], 2);
    this.markers = [];
    for (const a of this.anomalies) {
      if (!finite(a.strike)) continue;
      const i = x.indexOf(a.strike);
      if (i < 0) continue;
      const y = (a.right === "P" ? cols.pm[i] : a.right === "C" ? cols.cm[i] : null) ?? cols.fit[i] ?? cols.cm[i] ?? cols.pm[i];
      if (!finite(y)) continue;
      const cx = u.valToPos(a.strike, "x");
      const cy = u.valToPos(y, "y");
      this.markers.push({x: cx, y: cy, anomaly: a});
      const selected = a.id === this.selectedId;
      ctx.save();
      ctx.strokeStyle = selected ? COLORS.selected : COLORS.anomaly;
      ctx.lineWidth = (selected ? 4 : 3) * dpr;
      ctx.beginPath();
      ctx.arc(u.bbox.left + cx * dpr, u.bbox.top + cy * dpr, (selected ? 12 : 9) * dpr, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.restore();
    }
  }
}

