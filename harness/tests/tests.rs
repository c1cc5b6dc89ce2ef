//! wsspec's integration tests, one binary.

// The whole catalog against the embedded tungstenite server, pinned in a baseline.
mod baseline;
// Deliberately broken servers, each caught by the cases meant to catch it.
mod broken_servers;
// The `wsspec` command: exit codes, listing, selection, spec files, bad input.
mod cli;
// Targets that stall, flood, lie about lengths, reset or never speak WebSocket.
mod hostile_targets;
mod support;
