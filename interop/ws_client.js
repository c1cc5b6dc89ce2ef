'use strict';

// Autobahn client driver for Node `ws`, the interop client agent "ws-client".
//
// Usage: node ws_client.js [--deflate] BASE_URL AGENT [CA]   (e.g. ws://127.0.0.1:9001 ws-client)
//
// Modelled on ws's own test/autobahn.js: ask BASE_URL/getCaseCount for the
// number of cases, run them one at a time (BASE_URL/runCase?case=N&agent=AGENT,
// echoing every message with its type; the next case starts on `close`), then
// connect to BASE_URL/updateReports?agent=AGENT and exit once it closes.
// Errors are the expected outcome of many cases: they are ignored (the `error`
// listener only keeps the process from crashing), as upstream does.
//
// `ws` is resolved through NODE_PATH (run.sh points it at
// .interop/node/node_modules), so this file can live outside the install dir.
//
// Same configuration as the ws echo server (ws_echo.js):
// - maxPayload 2**25 (32 MiB; ws 8.23's default is 100 MiB): 9.1.6/9.2.6
//   send 16 MiB. One limit for every interop agent;
// - maxFragments 65536 (ws 8.23 default 16384, which fails with 1008):
//   9.3.1/9.4.1 send a 4 MiB message in 64-byte frames = 65,536 frames;
// - perMessageDeflate false: sections 12/13 are UNIMPLEMENTED; with --deflate
//   (the agent "ws-deflate-client") true, ws's client default: its offer is
//   `permessage-deflate; client_max_window_bits` (PerMessageDeflate.offer),
//   threshold 1024 (shorter messages are sent uncompressed).
// Everything else keeps ws 8.23's client defaults (autoPong, UTF-8
// validation on, handshakeTimeout none).

const WebSocket = require('ws');

const OPTIONS = {
  perMessageDeflate: false,
  maxPayload: 2 ** 25,
  maxFragments: 65536,
};

const args = process.argv.slice(2);
if (args[0] === '--deflate') {
  OPTIONS.perMessageDeflate = true;
  args.shift();
}
if (args.length !== 2 && args.length !== 3) {
  console.error('usage: node ws_client.js [--deflate] BASE_URL AGENT [CA]');
  process.exit(2);
}
// With CA (a PEM file): a wss:// BASE_URL is verified against that CA only
// (the agent "ws-client-tls").
if (args.length === 3) {
  OPTIONS.ca = require('fs').readFileSync(args[2]);
}
const server = args[0].replace(/\/+$/, '');
const agent = encodeURIComponent(args[1]);

let currentTest = 1;
let testCount;

function nextTest() {
  if (currentTest > testCount) {
    const ws = new WebSocket(`${server}/updateReports?agent=${agent}`, OPTIONS);
    ws.on('close', () => {
      console.log('Updated reports');
      process.exit(0);
    });
    ws.on('error', (e) => {
      console.error(`updateReports: ${e.message}`);
      process.exit(1);
    });
    return;
  }

  console.log(`Running test case ${currentTest}/${testCount}`);
  const ws = new WebSocket(`${server}/runCase?case=${currentTest}&agent=${agent}`, OPTIONS);
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    currentTest++;
    process.nextTick(nextTest);
  });
  ws.on('error', (e) => console.log(`  error: ${e.message}`));
}

const ws = new WebSocket(`${server}/getCaseCount`, OPTIONS);
ws.on('message', (data) => {
  testCount = parseInt(data, 10);
});
ws.on('close', () => {
  if (testCount > 0) {
    nextTest();
  } else {
    console.error('getCaseCount: no case count received');
    process.exit(1);
  }
});
ws.on('error', (e) => console.error(`getCaseCount: ${e.message}`));
