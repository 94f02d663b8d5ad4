// High-severity incidents that ask for attention: a notice for one on another underlying than the one on screen
// (announced, never switched to unasked), and opt-in browser notifications and a beep, off until the user turns
// them on (remembered). Permission is asked for only from the user's click.

import {$, el, text} from "./dom.js";
import {VIEWS} from "./incident.js";
import {contract, t, timeNY} from "./i18n.js";

const KEYS = {notify: "spyglass.alerts.notify", sound: "spyglass.alerts.sound"};
const NOTICES = 3; // at most this many notices at once, one per underlying, newest first
export const fired = {notified: [], beeps: 0}; // what was raised, for the tests

let audio = null;

const remembered = (key) => {
  try { return localStorage.getItem(key) === "1"; } catch { return false; }
};
const remember = (key, on) => {
  try { localStorage.setItem(key, on ? "1" : "0"); } catch { /* not remembered, still applied */ }
};

/** A new (not continuing) high-severity market incident. */
export const isAlarm = (a) => a?.severity === "high" && VIEWS.market(a) && a.evidence?.state !== "continuing";

const what = (a) => `${t(`type.${a.type}`)} ${contract(a.right, a.strike)}`;

/** Wire the two checkboxes; their state comes back from localStorage. */
export function wireAlerts() {
  const notify = $("#alerts-notify");
  const sound = $("#alerts-sound");
  const granted = () => "Notification" in window && Notification.permission === "granted";
  notify.checked = remembered(KEYS.notify) && granted();
  sound.checked = remembered(KEYS.sound);
  notify.addEventListener("change", async () => {
    text("#alerts-note", "");
    if (!notify.checked) return remember(KEYS.notify, false);
    if (!("Notification" in window)) {
      notify.checked = false;
      return text("#alerts-note", t("alerts.unsupported"));
    }
    const permission = await Notification.requestPermission(); // asked here, on the user's click, never before
    notify.checked = permission === "granted";
    remember(KEYS.notify, notify.checked);
    if (!notify.checked) text("#alerts-note", t("alerts.denied"));
  });
  sound.addEventListener("change", () => {
    remember(KEYS.sound, sound.checked);
    if (sound.checked) context()?.resume(); // created and resumed inside the click: browsers allow audio then
  });
}

function context() {
  const Audio = window.AudioContext ?? window.webkitAudioContext;
  if (!audio && Audio) audio = new Audio();
  return audio;
}

/** A short two-tone beep, synthesized (no audio file). */
function beep() {
  const ctx = context();
  if (!ctx) return;
  const start = ctx.currentTime;
  for (const [freq, at] of [[880, 0], [660, 0.16]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + at);
    gain.gain.exponentialRampToValueAtTime(0.2, start + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.14);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + at);
    osc.stop(start + at + 0.15);
  }
  fired.beeps++;
}

/** Raise what the user opted into for a new high-severity incident (any underlying). */
export function alarm(a) {
  if (!isAlarm(a)) return;
  if ($("#alerts-notify").checked && "Notification" in window && Notification.permission === "granted") {
    try {
      new Notification(t("alerts.title", {underlying: a.underlying, what: what(a)}), {tag: a.id, body: timeNY(a.ts)});
      fired.notified.push(a.id);
    } catch { /* a browser that allows notifications only from a service worker: the notice still shows */ }
  }
  if ($("#alerts-sound").checked) beep();
}

let notices = []; // the incidents announced, newest first: re-rendered when the language changes
let onShow = () => {};

/** Announce an incident on another underlying: a notice (polite live region) whose button switches to it. */
export function announce(a, show) {
  onShow = show;
  notices = [a, ...notices.filter((n) => n.underlying !== a.underlying)].slice(0, NOTICES);
  renderNotices();
}

/** Notices about `underlying` go once it is on screen. */
export function clearNotices(underlying) {
  notices = notices.filter((n) => n.underlying !== underlying);
  renderNotices();
}

export function renderNotices() {
  $("#notice").replaceChildren(...notices.map((a) => el("p", {class: "notice-item", dataset: {underlying: a.underlying, id: a.id}},
    el("span", {class: "notice-text"}, t("notice.high", {what: what(a), underlying: a.underlying, time: timeNY(a.ts)})),
    " ",
    el("button", {type: "button", class: "notice-show", onclick: () => onShow(a.underlying)},
      t("notice.show", {underlying: a.underlying})),
    el("button", {type: "button", class: "notice-dismiss", "aria-label": t("notice.dismiss"),
      onclick: () => { notices = notices.filter((n) => n !== a); renderNotices(); }}, "×"))));
}
