//! A case's HTTP/2 table (section 22, RFC 8441): a probe of the server's HTTP/2 side, or an
//! extended CONNECT that departs from the conforming one with the answers that are correct. A case
//! with an empty table runs its frame steps over an extended CONNECT stream.

use serde::Deserialize;

use super::StatusSet;

/// The `http2` table of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http2Def {
    /// What the case checks beyond one request and its answer.
    pub probe: Option<Probe>,
    /// How the extended CONNECT departs from the conforming one (sent by wsspec's own frame
    /// writer, so malformed requests reach the server as written).
    pub request: Option<H2RequestDef>,
    /// The statuses that answer `request` correctly.
    #[serde(default)]
    pub status: Vec<StatusSet>,
    /// Whether a stream error (RST_STREAM, RFC 9113 §5.4.2) answers `request` correctly.
    #[serde(default)]
    pub reset: bool,
}

impl Http2Def {
    /// Whether the case plays frame steps on an open stream (no probe, no crafted request).
    pub fn runs_frames(&self) -> bool {
        self.probe.is_none() && self.request.is_none()
    }
}

/// A check of the server's HTTP/2 side that is more than one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// The server's SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3).
    Setting,
    /// Several WebSockets on one connection, their messages interleaved, each echoed on its own
    /// stream (RFC 9113 §5).
    Multiplex,
    /// After the closing handshake the server ends its stream with END_STREAM, not RST_STREAM
    /// (RFC 8441 §5).
    EndStream,
    /// A stream aborted with RST_STREAM(CANCEL) mid-message ends that WebSocket only: another on
    /// the same connection still echoes (RFC 8441 §5, RFC 9113 §5.4.2).
    Cancel,
}

/// How the extended CONNECT departs from the conforming one: `:method CONNECT`, `:protocol
/// websocket`, `:scheme http`, `:authority`, `:path`, `sec-websocket-version: 13`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct H2RequestDef {
    /// The `:method` value (`GET`).
    pub method: Option<String>,
    /// The `:protocol` value (`chat`).
    pub protocol: Option<String>,
    /// Fields left out, by name (`:path`, `:scheme`).
    #[serde(default)]
    pub remove: Vec<String>,
    /// `[name, value]` fields appended (`["connection", "Upgrade"]`); names are sent lower-case.
    #[serde(default)]
    pub add: Vec<(String, String)>,
}
