// SignalR: negotiate through /api/negotiate (same origin), then the service URL it returns.
// Reconnects with capped exponential backoff and jitter, forever; a full stop restarts the same way.

const MAX_DELAY_MS = 15000;

export function backoff(attempt) {
  const base = Math.min(MAX_DELAY_MS, 250 * 2 ** attempt);
  return base / 2 + Math.random() * base / 2;
}

/** Connect and keep connected. handlers: {anomaly, chain, signal, outcome, state(name, info)}; any may be absent. */
export function connect(handlers) {
  const signalR = window.signalR;
  const connection = new signalR.HubConnectionBuilder()
    .withUrl("/api")
    .withAutomaticReconnect({nextRetryDelayInMilliseconds: (ctx) => backoff(ctx.previousRetryCount)})
    .configureLogging(signalR.LogLevel.None)
    .build();
  for (const target of ["anomaly", "chain", "signal", "outcome"]) {
    connection.on(target, (payload) => handlers[target]?.(payload, performance.timeOrigin + performance.now()));
  }
  let downSince = null;
  const down = (state) => {
    downSince ??= Date.now();
    handlers.state(state, {since: downSince});
  };
  connection.onreconnecting(() => down("reconnecting"));
  connection.onreconnected(() => {
    const offline = downSince ? (Date.now() - downSince) / 1000 : 0;
    downSince = null;
    handlers.state("live", {reconnected: true, offline});
  });
  connection.onclose(() => {
    down("disconnected");
    start(0);
  });
  async function start(attempt) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
    try {
      await connection.start();
      const offline = downSince ? (Date.now() - downSince) / 1000 : 0;
      const reconnected = downSince !== null;
      downSince = null;
      handlers.state("live", {reconnected, offline});
    } catch {
      down("disconnected");
      start(attempt + 1);
    }
  }
  handlers.state("connecting", {});
  start(0);
  return connection;
}
