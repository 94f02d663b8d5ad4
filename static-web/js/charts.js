// Shared chart setup: the Okabe-Ito palette (safe for the common colour-vision deficiencies), sizing, axes.

import uPlot from "../vendor/uPlot.esm.js";

export {uPlot};

export const COLORS = {
  call: "#56B4E9", // sky blue
  put: "#E69F00", // orange
  fit: "#F0F0F0",
  spot: "#009E73", // bluish green
  forward: "#BBBBBB",
  anomaly: "#CC79A7", // reddish purple
  selected: "#F0E442", // yellow
  positive: "#56B4E9",
  negative: "#D55E00", // vermillion
  move: "#009E73",
  axis: "#C8CDD2",
  grid: "rgba(200,205,210,0.12)",
};

export const axis = (extra = {}) => ({stroke: COLORS.axis, grid: {stroke: COLORS.grid, width: 1},
  ticks: {stroke: COLORS.grid, width: 1}, font: "12px system-ui, sans-serif", labelFont: "12px system-ui, sans-serif",
  ...extra});

const height = (root) => Math.max(240, Math.min(360, Math.round(root.clientWidth * 0.55)));

/** A uPlot chart filling `root`'s width, resized with it. */
export function makeChart(root, opts, data) {
  root.replaceChildren();
  const chart = new uPlot({width: Math.max(root.clientWidth, 280), height: height(root), ...opts}, data, root);
  const observer = new ResizeObserver(() => chart.setSize({width: Math.max(root.clientWidth, 280), height: height(root)}));
  observer.observe(root);
  chart.dispose = () => { observer.disconnect(); chart.destroy(); };
  return chart;
}

/** A vertical marker line across the plot with a label at its top. */
export function vline(u, value, color, label, dash = [], row = 1) {
  if (typeof value !== "number" || !Number.isFinite(value)) return;
  const x = Math.round(u.valToPos(value, "x", true));
  const {top, height: h, left, width} = u.bbox;
  if (x < left || x > left + width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5 * devicePixelRatio;
  ctx.setLineDash(dash.map((d) => d * devicePixelRatio));
  ctx.beginPath();
  ctx.moveTo(x, top);
  ctx.lineTo(x, top + h);
  ctx.stroke();
  if (label) {
    ctx.setLineDash([]);
    ctx.fillStyle = color;
    ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillText(label, x + 4 * devicePixelRatio, top + 14 * row * devicePixelRatio);
  }
  ctx.restore();
}
