'use strict';

// Echo server built on Node `ws`, the interop target "ws".
//
// Usage: node ws_echo.js [--deflate] [PORT] [CERT KEY]
//
// With CERT and KEY (PEM files) it serves wss:// through an `https` server,
// the interop target "ws-tls". With --deflate it negotiates permessage-deflate
// (RFC 7692) with ws's defaults, the interop target "ws-deflate".
//
// Listens on 127.0.0.1:PORT (default 0 = a free port chosen by the OS) and
// prints the port actually bound as the first line of stdout, once the socket
// accepts connections. Every text or binary message is echoed back with the
// same type. SIGTERM or SIGINT closes the server and exits with status 0.
//
// `ws` is resolved through NODE_PATH (run.sh points it at
// .interop/node/node_modules), so this file can live outside the install dir.
//
// Configured the way a user running the Autobahn 9.x (limits) cases would:
// - maxPayload 2**25 (32 MiB; ws 8.23 default is 100 MiB): 9.1.6/9.2.6 send
//   16 MiB. Same value as the websockets target, so both have one limit;
// - maxFragments 65536 (ws 8.23 default 16384, which fails with 1008):
//   9.3.1/9.4.1 send a 4 MiB message in 64-byte frames = 65,536 frames;
// - perMessageDeflate false: sections 12/13 are UNIMPLEMENTED; with --deflate,
//   `perMessageDeflate: true`, i.e. ws 8.23's defaults: accept the first
//   valid offer, answer only the parameters the client asked for (no window
//   bits of its own), zlib defaults (level Z_DEFAULT_COMPRESSION, memLevel 8),
//   context takeover unless the offer asks otherwise, `threshold: 1024`:
//   messages under 1024 bytes are sent uncompressed (RSV1 = 0), which RFC
//   7692 §6 allows per message; and `concurrencyLimit: 10` zlib jobs.
// Everything else keeps ws 8.23's defaults (autoPong, maxPendingAutoPongs 60,
// maxBufferedChunks 262144, UTF-8 validation on).

const { WebSocketServer } = require('ws');

const MAX_PAYLOAD = 2 ** 25;
const MAX_FRAGMENTS = 65536;

const args = process.argv.slice(2);
const deflate = args.includes('--deflate');
const positional = args.filter((a) => a !== '--deflate');
const port = positional.length > 0 ? Number(positional[0]) : 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`ws_echo.js: bad port ${positional[0]}`);
  process.exit(2);
}

const OPTIONS = {
  perMessageDeflate: deflate,
  maxPayload: MAX_PAYLOAD,
  maxFragments: MAX_FRAGMENTS,
};

let wss;
if (positional.length > 2) {
  const fs = require('fs');
  const https = require('https');
  // The request handler ws gives the http server it makes itself when given a
  // port (websocket-server.js): 426 to a request that is not an upgrade, so
  // that both agents answer the handshake cases (18.x) alike. Without it a
  // plain GET over TLS would get no answer at all.
  const upgradeRequired = (req, res) => {
    const body = require('http').STATUS_CODES[426];
    res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
    res.end(body);
  };
  const tls = { cert: fs.readFileSync(positional[1]), key: fs.readFileSync(positional[2]) };
  const server = https.createServer(tls, upgradeRequired);
  wss = new WebSocketServer({ server, ...OPTIONS });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
  });
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port, ...OPTIONS });
  wss.on('listening', () => {
    process.stdout.write(`${wss.address().port}\n`);
  });
}

wss.on('error', (err) => {
  console.error(`ws_echo.js: ${err.message}`);
  process.exit(1);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  // Protocol errors are the expected outcome of many cases; ws has already
  // sent the close frame. A listener is required or the process would crash.
  ws.on('error', () => {});
});

function shutdown() {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  // Never hang on shutdown.
  setTimeout(() => process.exit(0), 2000).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
