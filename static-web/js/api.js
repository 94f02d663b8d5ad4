// The HTTP API, on the same origin: the Static Web App proxies /api/* to the Function App with its key.

export class ApiError extends Error {}

async function get(path, params = {}) {
  const url = new URL(`/api/${path}`, location.origin);
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null) url.searchParams.set(name, value);
  const response = await fetch(url, {headers: {accept: "application/json"}, credentials: "same-origin", cache: "no-store"});
  if (response.status === 404) return null;
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).error?.message ?? message; } catch { /* not JSON */ }
    throw new ApiError(message);
  }
  return response.json();
}

export const latestChain = (underlying) => get("chain/latest", {underlying});
/** The newest chain of each underlying, freshest first: {items: [{underlying, expiry, ts, age_seconds}]}. */
export const chains = () => get("chains");
export const chainAt = (at, underlying, expiry) => get("chain", {at, underlying, expiry});
/** The day's analytics as a series: {items: [{ts, spot, forward, atm_iv, expected_move, rr25_vol_points, gex_total}]}. */
export const chainHistory = ({since, until, underlying, expiry, every, points}) =>
  get("chain/history", {since, until, underlying, expiry, every, points});

/** Anomalies in [since, until], oldest first, following continuation tokens up to `pages` pages. */
export async function anomalies({since, until, underlying, pages = 5, limit = 1000}) {
  const items = [];
  let continuation;
  for (let n = 0; n < pages; n++) {
    const page = await get("anomalies", {since, until, underlying, limit, continuation});
    if (!page) break;
    items.push(...page.items);
    continuation = page.continuation;
    if (!continuation) break;
  }
  return items;
}
