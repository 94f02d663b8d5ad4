// The real @microsoft/signalr client, driven by tests/devstack/test_signalr.py.
//
//   node signalr_client.cjs '{"url": "...", "token": "...", "targets": ["t1"], "retryDelays": null}'
//
// Connects with HubConnectionBuilder().withUrl(url, {accessTokenFactory}).withAutomaticReconnect()
// and prints one JSON object per line on stdout: started / start_failed / message /
// reconnecting / reconnected / closed / invoked / invoke_failed.
// Commands arrive as JSON lines on stdin: {"cmd": "stop"}, {"cmd": "send"|"invoke",
// "target": ..., "arguments": [...]}. Closing stdin stops the client too.
"use strict";

const readline = require("readline");
const signalR = require("@microsoft/signalr");

const config = JSON.parse(process.argv[2]);
const out = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const text = (error) => (error ? String(error.message || error) : null);

// Library logs go to stderr so stdout stays JSON lines only.
const logger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Warning) process.stderr.write(`[signalr ${level}] ${message}\n`);
  },
};

const options = config.token ? { accessTokenFactory: () => config.token } : {};
let builder = new signalR.HubConnectionBuilder().withUrl(config.url, options).configureLogging(logger);
if (config.reconnect !== false) {
  builder = config.retryDelays ? builder.withAutomaticReconnect(config.retryDelays) : builder.withAutomaticReconnect();
}
const connection = builder.build();

for (const target of config.targets || []) {
  connection.on(target, (...args) => {
    out({ event: "message", target, arguments: args });
  });
}
connection.onreconnecting((error) => out({ event: "reconnecting", error: text(error) }));
connection.onreconnected((id) => out({ event: "reconnected", connectionId: id || null }));
connection.onclose((error) => {
  out({ event: "closed", error: text(error) });
  setTimeout(() => process.exit(0), 50); // let pending invoke results print first
});

async function command(line) {
  const cmd = JSON.parse(line);
  if (cmd.cmd === "stop") {
    await connection.stop();
    process.exit(0);
  } else if (cmd.cmd === "send") {
    await connection.send(cmd.target, ...(cmd.arguments || []));
  } else if (cmd.cmd === "invoke") {
    try {
      const result = await connection.invoke(cmd.target, ...(cmd.arguments || []));
      out({ event: "invoked", result: result === undefined ? null : result });
    } catch (error) {
      out({ event: "invoke_failed", error: text(error) });
    }
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  command(line).catch((error) => out({ event: "command_failed", error: text(error) }));
}).on("close", () => {
  connection.stop().finally(() => process.exit(0));
});

connection.start().then(
  () => out({ event: "started", connectionId: connection.connectionId }),
  (error) => {
    out({ event: "start_failed", error: text(error) });
    process.exit(2);
  },
);
