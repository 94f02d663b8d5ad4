// The market session as the data tells it (chain-analytics/1 `ts` + `minutes_to_close`), the calendar only when
// there is no data to ask: a simulated or replayed session shows its own session, a live one the exchange's.

import {session} from "./calendar.js";
import {timeNY} from "./i18n.js";

const finite = (x) => typeof x === "number" && Number.isFinite(x);

/** Whether the chain on screen comes from a simulated session: the core decides by the snapshot's `source`
 * (spyglass.wire.summary.is_simulated) and says so in chain-analytics/1 `simulated`. */
export const isSimulated = (chain) => chain?.simulated === true;

/** When the session of `chain` closes (ms since the epoch, to the second: minutes_to_close is rounded), or null
 * when the data does not say. */
export function closeOf(chain) {
  const ts = Date.parse(chain?.ts ?? "");
  if (!Number.isFinite(ts) || !finite(chain?.minutes_to_close)) return null;
  return Math.round((ts + chain.minutes_to_close * 60e3) / 1000) * 1000;
}

/** {open, closes ("HH:MM" New York), known, from: "data" | "calendar"}.
 * Fresh data decides: open until its close. Once the data's close has passed (on the data's own clock: its ts plus
 * the time since it arrived) the session is closed, fresh or not. Stale data before its close, or no data, leaves it
 * to the exchange calendar. */
export function marketState({chain = null, receivedAt = null, now = Date.now(), fresh = false} = {}) {
  const close = closeOf(chain);
  if (close !== null) {
    const dataNow = Date.parse(chain.ts) + Math.max(0, now - (receivedAt ?? now));
    if (dataNow >= close) return {open: false, closes: timeNY(new Date(close), false), known: true, from: "data"};
    if (fresh) return {open: true, closes: timeNY(new Date(close), false), known: true, from: "data"};
  }
  const s = session(new Date(now));
  return {open: s.open, closes: s.closes, known: s.known, from: "calendar"};
}
