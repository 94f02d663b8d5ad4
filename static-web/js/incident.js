// How the page reads an anomaly/1 record: an incident's faces, a chain-level finding, a data error.
// Records are untrusted data: anything malformed reads as "no facets", never as an exception.

/** An incident's other faces (each {type, rule, score, severity, edge, summary, evidence}); [] for a single finding. */
export const facetsOf = (a) => (Array.isArray(a?.facets) ? a.facets.filter((f) => f && typeof f.type === "string") : []);

/** The primary type, then each facet's: what the record is evidence of. */
export const typesOf = (a) => [a.type, ...facetsOf(a).map((f) => f.type)];

/** A finding about the whole chain (or snapshot): no strike, so a row in the feed and never a ring on the smile. */
export const isChainLevel = (a) => typeof a?.strike !== "number" || !Number.isFinite(a.strike);

/** Bad data, not a market event: kept off the market feed and the market smile. */
export const isDataError = (a) => a?.type === "data_error";

/** The feed's views: market anomalies (the default) and data errors, each on its own. */
export const VIEWS = {market: (a) => !isDataError(a), data: isDataError};

/** Whether `b`, an incident, already stands for `a`: the same contract, no older, and `a`'s type among its faces. */
export const covers = (b, a) => b !== a && facetsOf(b).length > 0 && !isChainLevel(a) && b.right === a.right
  && b.strike === a.strike && b.ts >= a.ts && typesOf(b).includes(a.type);
