// NYSE sessions for the status bar: regular hours 09:30-16:00 New York, minus holidays, with early closes.
// Generated from exchange-calendars (XNYS), the same source as spyglass.clock; tests/browser/test_site.py
// checks it against exchange-calendars, so a stale list fails the tests instead of showing the wrong state.

export const RANGE = ["2025-01-01", "2027-11-23"];
export const HOLIDAYS = new Set(["2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26",
  "2025-06-19", "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25", "2026-01-01", "2026-01-19", "2026-02-16",
  "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25", "2027-01-01",
  "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06"]);
export const EARLY_CLOSES = {"2025-07-03": "13:00", "2025-11-28": "13:00", "2025-12-24": "13:00",
  "2026-11-27": "13:00", "2026-12-24": "13:00"};

const parts = new Intl.DateTimeFormat("en-CA", {timeZone: "America/New_York", year: "numeric", month: "2-digit",
  day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", weekday: "short"});

/** {open, day, closes ("HH:MM"), known}: is the regular session open at `date` (a Date)? */
export function session(date) {
  const p = Object.fromEntries(parts.formatToParts(date).map((x) => [x.type, x.value]));
  const day = `${p.year}-${p.month}-${p.day}`;
  const minutes = Number(p.hour) * 60 + Number(p.minute);
  const closes = EARLY_CLOSES[day] ?? "16:00";
  const [ch, cm] = closes.split(":").map(Number);
  const tradingDay = !["Sat", "Sun"].includes(p.weekday) && !HOLIDAYS.has(day);
  const open = tradingDay && minutes >= 9 * 60 + 30 && minutes < ch * 60 + cm;
  return {open, day, closes, tradingDay, known: day >= RANGE[0] && day <= RANGE[1]};
}
