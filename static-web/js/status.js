// The status bar: connection state, how old the data is (visibly stale), the market session in New York time
// (from the data when it says, market.js), and a badge when the session on screen is simulated.

import {$, text} from "./dom.js";
import {duration, t, timeNY} from "./i18n.js";
import {isSimulated, marketState} from "./market.js";
import {store} from "./store.js";

export const STALE_SECONDS = 10;
let connection = {state: "connecting", outage: null};

export function setConnection(state, info = {}) {
  connection = {...connection, state};
  if (info.reconnected) connection.outage = {seconds: Math.round(info.offline), at: new Date(), count: 0};
  renderStatus();
}

export function noteCaughtUp(count) {
  if (connection.outage) connection.outage.count = count;
  renderStatus();
}

/** Age of what is on screen: since the snapshot was taken, or since it arrived, whichever is longer
 * (a replayed or simulated session has timestamps that say nothing about freshness). */
export function dataAge(now = Date.now()) {
  if (!store.chain) return null;
  const taken = Date.parse(store.chain.ts);
  return Math.max(0, (now - taken) / 1000, (now - store.receivedAt) / 1000);
}

export function renderStatus(now = new Date()) {
  const conn = $("#conn");
  conn.dataset.state = connection.state;
  text("#conn-text", t(`conn.${connection.state}`));
  const outage = $("#outage");
  outage.hidden = !connection.outage;
  if (connection.outage) {
    text(outage, t("conn.outage", {seconds: connection.outage.seconds, time: timeNY(connection.outage.at),
      count: connection.outage.count}));
  }
  const age = dataAge(now.getTime());
  const stale = age === null || age > STALE_SECONDS;
  const ageNode = $("#age");
  ageNode.dataset.stale = String(stale);
  text("#age-text", age === null ? t("age.none") : t("age.value", {age: duration(age)}));
  text("#age-flag", stale ? t("age.stale") : "");
  const s = marketState({chain: store.chain, receivedAt: store.receivedAt, now: now.getTime(), fresh: !stale});
  const market = $("#market");
  market.dataset.open = String(s.open);
  market.dataset.from = s.from;
  text("#market-text", !s.known ? t("market.unknown") : s.open ? t("market.open", {time: s.closes}) : t("market.closed"));
  $("#sim").hidden = !(store.chain && isSimulated(store.chain));
  text("#ny-time", t("market.ny", {time: timeNY(now)}));
}
