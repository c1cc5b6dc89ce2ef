//! wsspec's integration tests, one binary.

// The whole catalog against the embedded tungstenite server, pinned in a baseline.
mod baseline;
// What a case keeps of a hostile target: events, wire log and record size within their bounds.
mod bounds;
// The HTML report of a real run, checked in headless Chromium.
mod browser;
// Deliberately broken servers, each caught by the cases meant to catch it.
mod broken_servers;
// permessage-deflate: the ratchet reference, tungstenite without deflate, a broken deflate server.
mod deflate_peers;
// permessage-deflate testing clients: the ratchet client, tungstenite without deflate, broken deflate clients.
mod deflate_clients;
// Testing clients: the URL protocol, the tungstenite client baseline, broken clients.
mod client_mode;
// The `wsspec` command: exit codes, listing, selection, spec files, bad input.
mod cli;
// What CI sees of runs that did not simply pass: JUnit errors and unrun cases, TLS trust, live folders.
mod ci_reporting;
// The fuzz harness: the RFC model against tungstenite, `wsspec fuzz` against broken servers.
mod fuzz;
// Reports and gating through the CLI: JUnit, expectations files, `wsspec report`, `wsspec diff`.
mod report_outputs;
// What `report`, `diff` and `--update-expectations` require of a folder; concurrent runs; load bounds.
mod report_gates;
// The hostile-peer kit: a scriptable in-process target and the attacks the bounds are stated against.
mod hostile_peer;
// Whole runs against each attack of the kit: wall time, files written, report bytes within bounds.
mod hostile_runs;
// Hostile input outside a session: case files, report folders, agent names, a crash mid-echo, EMFILE.
mod hostile_input;
// Targets that stall, flood, lie about lengths, reset or never speak WebSocket.
mod hostile_targets;
// Sections 18 and 19 against servers and clients with one handshake flaw each.
mod handshake_peers;
// WebSocket over HTTP/2 (RFC 8441): the frame catalog over h2c, section 22, broken RFC 8441 servers.
mod http2;
// Cases that end at the opening handshake: broken requests, the recorded exchange, the judge.
mod opening_handshake;
// Runs stopped by a signal or killed: what the exit code, the summary and every report file say.
mod killed_runs;
// A run's life: wsspec's own errors, interrupts, dead targets, re-runs, `client --spec`.
mod run_lifecycle;
// wss:// in both roles: the catalog over TLS, the TLS section for clients, the TLS options.
mod tls;
// Targets that refuse connections intermittently (every other one): the same verdicts, no crash finding.
mod intermittent;
mod support;
// Targets that ping and send unsolicited pongs on their own: the same verdicts, in both roles.
mod keepalive;
