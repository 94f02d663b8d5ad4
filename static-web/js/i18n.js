// English and Spanish: every string on the page, the chosen language remembered, numbers and times via Intl.

const STORE = "spyglass.lang";
const NY = "America/New_York";

const STRINGS = {
  en: {
    "app.title": "Spyglass · 0DTE anomaly radar",
    "app.lang": "Español",
    "app.lang.label": "Cambiar a español",
    "conn.label": "Connection",
    "conn.connecting": "Connecting…",
    "conn.live": "Live",
    "conn.reconnecting": "Reconnecting…",
    "conn.disconnected": "Disconnected",
    "conn.outage": "Was disconnected {seconds} s, back at {time}; caught up {count} anomalies",
    "age.label": "Data age",
    "age.none": "no data yet",
    "age.value": "{age} old",
    "age.stale": "STALE",
    "market.label": "Market",
    "market.open": "Open until {time}",
    "market.closed": "Closed",
    "market.unknown": "calendar out of range",
    "market.ny": "New York {time}",
    "smile.title": "Smile",
    "smile.live": "Live · {time}",
    "smile.pinned": "Snapshot {time} · anomaly marked",
    "smile.back": "Back to live",
    "smile.calls": "Calls, mid IV",
    "smile.puts": "Puts, mid IV",
    "smile.fit": "Fitted smile",
    "smile.range": "bar: bid IV to ask IV",
    "smile.spot": "spot",
    "smile.forward": "fwd",
    "smile.anomalies": "Anomalies on this snapshot",
    "smile.recent": "Anomalies in the last 30 s",
    "smile.none": "no anomalies here",
    "axis.strike": "Strike",
    "axis.iv": "IV (%)",
    "axis.volpts": "vol pts",
    "axis.dollars": "$",
    "axis.gex": "$ per 1% move",
    "kpi.atm": "ATM IV",
    "kpi.move": "Expected move to close",
    "kpi.rr": "25Δ risk reversal",
    "kpi.gex": "GEX total",
    "kpi.zero": "Zero gamma",
    "kpi.quality": "Data quality",
    "kpi.spot": "Spot",
    "kpi.none": "none",
    "quality.good": "good",
    "quality.degraded": "degraded",
    "quality.poor": "poor",
    "day.title": "Through the day",
    "day.atm": "ATM IV (vol pts)",
    "day.rr": "25Δ RR (vol pts)",
    "day.move": "Expected move ($)",
    "gex.title": "Gamma exposure by strike",
    "gex.units": "Dealers long calls, short puts; open interest is last night's.",
    "gex.pos": "GEX +",
    "gex.neg": "GEX −",
    "gex.zero": "zero γ",
    "outcome.label": "What the market did next: the alert's trade marked to mid, after fees",
    "outcome.missing": "no usable quote at this horizon",
    "horizon.5s": "5 s",
    "horizon.30s": "30 s",
    "horizon.2m": "2 min",
    "horizon.5m": "5 min",
    "horizon.settle": "close",
    "grades.title": "Graded by the market",
    "grades.caption": "each alert's trade marked to mid after fees: mean per contract · share positive",
    "grades.type": "Alert type",
    "grades.n": "Graded",
    "grades.cell": "{mean} · {share}%",
    "grades.empty": "No alert has been graded yet today.",
    "feed.title": "Anomalies",
    "feed.type": "Type",
    "feed.severity": "Severity",
    "feed.right": "Right",
    "feed.all": "All",
    "feed.calls": "Calls",
    "feed.puts": "Puts",
    "feed.count": "{shown} shown of {total}",
    "feed.empty": "No anomalies match the filters.",
    "feed.empty.data": "No data errors match the filters.",
    "feed.views": "Show",
    "feed.also": "also:",
    "feed.lines": "{n} lines: {list}",
    "view.market": "Market anomalies",
    "view.data": "Data errors",
    "feed.edge": "edge {value}",
    "feed.noedge": "no edge",
    "feed.open": "Show snapshot of {what}",
    "state.new": "NEW",
    "state.continuing": "continuing since {time}",
    "type.mispricing": "Mispricing",
    "type.parity": "Parity",
    "type.arbitrage": "Arbitrage",
    "type.volume_spike": "Volume spike",
    "type.spread_blowout": "Spread blowout",
    "type.iv_jump": "IV jump",
    "type.data_error": "Data error",
    "severity.low": "low",
    "severity.medium": "medium",
    "severity.high": "high",
    "right.C": "Call",
    "right.P": "Put",
    "contract.chain": "whole chain",
    "ev.mispricing": "IV {vol} vol pts {dir} the fitted smile ({side}); {edge} per contract beyond the spread",
    "ev.rich": "rich: sell at the bid",
    "ev.cheap": "cheap: buy at the ask",
    "ev.above": "above",
    "ev.below": "below",
    "ev.volume_spike": "{n} contracts in {s} s, {x}× the usual pace",
    "ev.spread_blowout": "spread {spread}, {x}× its neighbours and its own recent spread",
    "ev.iv_jump": "IV {vol} vol pts against the fitted smile",
    "ev.detail": "Detector's words (English)",
    "ev.parity": "put-call parity broken ({side}) by {excess}; {edge} per contract, {after} after fees",
    "ev.call_rich": "call rich",
    "ev.put_rich": "put rich",
    "ev.arbitrage": "arbitrage across {legs}: credit {credit}; {edge} per contract, {after} after fees",
    "ev.data.nonfinite": "a price arrived as NaN or infinity",
    "ev.data.crossed": "crossed quote: bid above ask",
    "ev.data.negative": "negative price",
    "ev.data.missing_ask": "bid without an ask",
    "ev.data.volume_decreased": "cumulative volume went down",
    "ev.data.duplicate": "contract listed twice in one snapshot",
    "ev.data.out_of_order": "snapshot arrived out of order",
    "ev.data.stale": "snapshot repeats the previous one: stale feed",
    "ev.data.after_close": "snapshot after the expiry close",
    "ev.data.spot_mismatch": "spot disagrees with the options' forward",
    "ev.data.stale_quote": "quote frozen while the market moved: not a price until it updates",
    "ev.data.age": "({s} s without an update)",
    "ev.data.outlier": "a bad print, far from what its neighbours imply; given no weight anywhere",
    "ev.data.fit_unstable": "the smile fit does not hold: many lines flagged the same way, none reported as trades",
    "ev.data.forward": "parity broken the same way at many strikes: the forward is off, not the pairs",
    "ev.data.quotes_inconsistent": "many arbitrage violations at once: the quotes are inconsistent, a feed fault",
    "ev.smile_shift": "the whole smile repriced: ATM vol {vol} vol pts in one snapshot",
    "ev.smile_shift.lines": "the whole smile moved: {n} lines at once, one chain event",
    "ev.chain_event": "{n} lines at once across the chain: one chain event",
    "ev.data.other": "data error",
    "error.api": "API error: {message}",
    "und.label": "Underlying",
    "sim.badge": "Simulated session",
    "sim.title": "The data on screen comes from the simulator, not a market feed",
    "notice.high": "High-severity {what} on {underlying} at {time}",
    "notice.show": "Show {underlying}",
    "notice.dismiss": "Dismiss",
    "alerts.label": "High-severity alerts",
    "alerts.notify": "Notify",
    "alerts.sound": "Sound",
    "alerts.denied": "The browser blocks notifications for this page",
    "alerts.unsupported": "This browser has no notifications",
    "alerts.title": "Spyglass · {underlying}: {what}",
    "feed.scope": "Underlyings",
    "feed.scope.one": "On screen",
    "feed.scope.all": "All",
    "smile.lines": "All lines",
    "smile.otm": "out-of-the-money lines (calls above the forward, puts below, both near it)",
    "smile.all": "every line, in the money too",
    "kpi.more": "{n} more",
  },
  es: {
    "app.title": "Spyglass · radar de anomalías 0DTE",
    "app.lang": "English",
    "app.lang.label": "Switch to English",
    "conn.label": "Conexión",
    "conn.connecting": "Conectando…",
    "conn.live": "En vivo",
    "conn.reconnecting": "Reconectando…",
    "conn.disconnected": "Desconectado",
    "conn.outage": "Estuvo desconectado {seconds} s, volvió a las {time}; recuperadas {count} anomalías",
    "age.label": "Antigüedad de los datos",
    "age.none": "sin datos todavía",
    "age.value": "hace {age}",
    "age.stale": "DESACTUALIZADO",
    "market.label": "Mercado",
    "market.open": "Abierto hasta las {time}",
    "market.closed": "Cerrado",
    "market.unknown": "calendario fuera de rango",
    "market.ny": "Nueva York {time}",
    "smile.title": "Sonrisa de volatilidad",
    "smile.live": "En vivo · {time}",
    "smile.pinned": "Instantánea {time} · anomalía marcada",
    "smile.back": "Volver a en vivo",
    "smile.calls": "Calls, IV media",
    "smile.puts": "Puts, IV media",
    "smile.fit": "Sonrisa ajustada",
    "smile.range": "barra: IV compra a IV venta",
    "smile.spot": "spot",
    "smile.forward": "fwd",
    "smile.anomalies": "Anomalías en esta instantánea",
    "smile.recent": "Anomalías de los últimos 30 s",
    "smile.none": "sin anomalías aquí",
    "axis.strike": "Strike",
    "axis.iv": "IV (%)",
    "axis.volpts": "pts de vol",
    "axis.dollars": "$",
    "axis.gex": "$ por movimiento del 1 %",
    "kpi.atm": "IV ATM",
    "kpi.move": "Movimiento esperado al cierre",
    "kpi.rr": "Risk reversal 25Δ",
    "kpi.gex": "GEX total",
    "kpi.zero": "Gamma cero",
    "kpi.quality": "Calidad de datos",
    "kpi.spot": "Spot",
    "kpi.none": "ninguno",
    "quality.good": "buena",
    "quality.degraded": "degradada",
    "quality.poor": "mala",
    "day.title": "A lo largo del día",
    "day.atm": "IV ATM (pts de vol)",
    "day.rr": "RR 25Δ (pts de vol)",
    "day.move": "Movimiento esperado ($)",
    "gex.title": "Exposición gamma por strike",
    "gex.units": "Dealers largos en calls, cortos en puts; el interés abierto es el de anoche.",
    "gex.pos": "GEX +",
    "gex.neg": "GEX −",
    "gex.zero": "γ cero",
    "outcome.label": "Lo que hizo el mercado después: la operación de la alerta valorada a mitad, tras comisiones",
    "outcome.missing": "sin cotización utilizable en este horizonte",
    "horizon.5s": "5 s",
    "horizon.30s": "30 s",
    "horizon.2m": "2 min",
    "horizon.5m": "5 min",
    "horizon.settle": "cierre",
    "grades.title": "Calificadas por el mercado",
    "grades.caption": "la operación de cada alerta valorada a mitad tras comisiones: media por contrato · proporción positiva",
    "grades.type": "Tipo de alerta",
    "grades.n": "Calificadas",
    "grades.cell": "{mean} · {share} %",
    "grades.empty": "Ninguna alerta calificada todavía hoy.",
    "feed.title": "Anomalías",
    "feed.type": "Tipo",
    "feed.severity": "Gravedad",
    "feed.right": "Derecho",
    "feed.all": "Todas",
    "feed.calls": "Calls",
    "feed.puts": "Puts",
    "feed.count": "{shown} mostradas de {total}",
    "feed.empty": "Ninguna anomalía coincide con los filtros.",
    "feed.empty.data": "Ningún error de datos coincide con los filtros.",
    "feed.views": "Mostrar",
    "feed.also": "también:",
    "feed.lines": "{n} líneas: {list}",
    "view.market": "Anomalías de mercado",
    "view.data": "Errores de datos",
    "feed.edge": "ventaja {value}",
    "feed.noedge": "sin ventaja",
    "feed.open": "Ver la instantánea de {what}",
    "state.new": "NUEVA",
    "state.continuing": "continúa desde las {time}",
    "type.mispricing": "Precio erróneo",
    "type.parity": "Paridad",
    "type.arbitrage": "Arbitraje",
    "type.volume_spike": "Pico de volumen",
    "type.spread_blowout": "Diferencial disparado",
    "type.iv_jump": "Salto de IV",
    "type.data_error": "Error de datos",
    "severity.low": "baja",
    "severity.medium": "media",
    "severity.high": "alta",
    "right.C": "Call",
    "right.P": "Put",
    "contract.chain": "toda la cadena",
    "ev.mispricing": "IV {vol} pts de vol {dir} la sonrisa ajustada ({side}); {edge} por contrato más allá del diferencial",
    "ev.rich": "cara: vender al bid",
    "ev.cheap": "barata: comprar al ask",
    "ev.above": "por encima de",
    "ev.below": "por debajo de",
    "ev.volume_spike": "{n} contratos en {s} s, {x}× el ritmo habitual",
    "ev.spread_blowout": "diferencial {spread}, {x}× el de sus vecinos y el suyo reciente",
    "ev.iv_jump": "IV {vol} pts de vol frente a la sonrisa ajustada",
    "ev.detail": "Texto del detector (inglés)",
    "ev.parity": "paridad put-call rota ({side}) por {excess}; {edge} por contrato, {after} tras comisiones",
    "ev.call_rich": "call cara",
    "ev.put_rich": "put cara",
    "ev.arbitrage": "arbitraje entre {legs}: crédito {credit}; {edge} por contrato, {after} tras comisiones",
    "ev.data.nonfinite": "un precio llegó como NaN o infinito",
    "ev.data.crossed": "cotización cruzada: bid por encima del ask",
    "ev.data.negative": "precio negativo",
    "ev.data.missing_ask": "bid sin ask",
    "ev.data.volume_decreased": "el volumen acumulado bajó",
    "ev.data.duplicate": "contrato repetido en una misma instantánea",
    "ev.data.out_of_order": "instantánea fuera de orden",
    "ev.data.stale": "la instantánea repite la anterior: feed congelado",
    "ev.data.after_close": "instantánea posterior al cierre del vencimiento",
    "ev.data.spot_mismatch": "el spot no cuadra con el forward de las opciones",
    "ev.data.stale_quote": "cotización congelada mientras el mercado se movía: no es un precio hasta que se actualice",
    "ev.data.age": "({s} s sin actualizarse)",
    "ev.data.outlier": "una cotización errónea, lejos de lo que implican sus vecinas; sin peso en ningún cálculo",
    "ev.data.fit_unstable": "el ajuste de la sonrisa no se sostiene: muchas líneas marcadas igual, ninguna como operación",
    "ev.data.forward": "paridad rota igual en muchos strikes: falla el forward, no los pares",
    "ev.data.quotes_inconsistent": "muchas violaciones de arbitraje a la vez: cotizaciones incoherentes, un fallo del feed",
    "ev.smile_shift": "toda la sonrisa se revalorizó: IV ATM {vol} pts de vol en una instantánea",
    "ev.smile_shift.lines": "toda la sonrisa se movió: {n} líneas a la vez, un solo evento de la cadena",
    "ev.chain_event": "{n} líneas a la vez en toda la cadena: un solo evento de la cadena",
    "ev.data.other": "error de datos",
    "error.api": "Error de la API: {message}",
    "und.label": "Subyacente",
    "sim.badge": "Sesión simulada",
    "sim.title": "Los datos en pantalla vienen del simulador, no de un feed de mercado",
    "notice.high": "{what} de gravedad alta en {underlying} a las {time}",
    "notice.show": "Ver {underlying}",
    "notice.dismiss": "Descartar",
    "alerts.label": "Alertas de gravedad alta",
    "alerts.notify": "Notificar",
    "alerts.sound": "Sonido",
    "alerts.denied": "El navegador bloquea las notificaciones de esta página",
    "alerts.unsupported": "Este navegador no tiene notificaciones",
    "alerts.title": "Spyglass · {underlying}: {what}",
    "feed.scope": "Subyacentes",
    "feed.scope.one": "En pantalla",
    "feed.scope.all": "Todos",
    "smile.lines": "Todas las líneas",
    "smile.otm": "líneas fuera del dinero (calls sobre el forward, puts bajo él, ambas cerca de él)",
    "smile.all": "todas las líneas, también dentro del dinero",
    "kpi.more": "{n} más",
  },
};

export const LANGS = Object.keys(STRINGS);
const LOCALES = {en: "en-US", es: "es-ES"};
let current = initial();
const listeners = new Set();

function initial() {
  let saved = null;
  try { saved = localStorage.getItem(STORE); } catch { /* storage may be disabled */ }
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("es") ? "es" : "en";
}

export const lang = () => current;
export const locale = () => LOCALES[current];

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try { localStorage.setItem(STORE, next); } catch { /* not remembered, still switched */ }
  applyStatic();
  for (const fn of listeners) fn(next);
}

export const onLang = (fn) => listeners.add(fn);

/** The string for `key` with {placeholders} filled in (values are inserted as text by the caller). */
export function t(key, vars = {}) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Fill elements marked data-i18n (text), data-i18n-label (aria-label) and data-i18n-title. */
export function applyStatic(root = document) {
  document.documentElement.lang = current;
  document.title = t("app.title");
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.setAttribute("title", t(node.dataset.i18nTitle));
}

const cache = new Map();
function formatter(kind, options) {
  const key = `${current}|${kind}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    cache.set(key, kind === "n" ? new Intl.NumberFormat(locale(), options) : new Intl.DateTimeFormat(locale(), options));
  }
  return cache.get(key);
}

const finite = (x) => typeof x === "number" && Number.isFinite(x);

export const num = (x, digits = 2) => (finite(x) ? formatter("n", {minimumFractionDigits: digits,
  maximumFractionDigits: digits}).format(x) : "–");
export const signed = (x, digits = 1) => (finite(x) ? formatter("n", {minimumFractionDigits: digits,
  maximumFractionDigits: digits, signDisplay: "exceptZero"}).format(x) : "–");
export const money = (x, digits = 2) => (finite(x) ? formatter("n", {style: "currency", currency: "USD",
  minimumFractionDigits: digits, maximumFractionDigits: digits}).format(x) : "–");
export const compactMoney = (x) => (finite(x) ? formatter("n", {style: "currency", currency: "USD",
  notation: "compact", maximumFractionDigits: 1}).format(x) : "–");
export const strike = (x) => (finite(x) ? formatter("n", {maximumFractionDigits: 2}).format(x) : "–");
export const duration = (seconds) => formatter("n", {style: "unit", unit: seconds < 120 ? "second" : "minute",
  unitDisplay: "short", maximumFractionDigits: 0}).format(seconds < 120 ? seconds : seconds / 60);

/** New York wall time of a Date or ISO string: "10:31:07" / "10:31:07". */
export function timeNY(value, seconds = true) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return "–";
  return formatter("d", {timeZone: NY, hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined,
    hourCycle: "h23"}).format(d);
}

/** A contract in words: "Call 602" / "Put 598" / "whole chain". */
export function contract(right, strikeValue) {
  if (!right && !finite(strikeValue)) return t("contract.chain");
  return [right ? t(`right.${right}`) : "", strike(strikeValue)].filter(Boolean).join(" ");
}
