//! The results model: Autobahn's two verdict fields, plus everything a reader needs to see why.

use serde::{Deserialize, Serialize};

/// Message-level verdict (Autobahn's `behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Behavior {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "NON-STRICT")]
    NonStrict,
    #[serde(rename = "INFORMATIONAL")]
    Informational,
    #[serde(rename = "UNIMPLEMENTED")]
    Unimplemented,
    #[serde(rename = "FAILED")]
    Failed,
}

/// Closing-handshake verdict (Autobahn's `behaviorClose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BehaviorClose {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "UNCLEAN")]
    Unclean,
    #[serde(rename = "WRONG CODE")]
    WrongCode,
    #[serde(rename = "FAILED BY CLIENT")]
    FailedByClient,
    #[serde(rename = "INFORMATIONAL")]
    Informational,
}

impl Behavior {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::NonStrict => "NON-STRICT",
            Self::Informational => "INFORMATIONAL",
            Self::Unimplemented => "UNIMPLEMENTED",
            Self::Failed => "FAILED",
        }
    }
}

impl BehaviorClose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Failed => "FAILED",
            Self::Unclean => "UNCLEAN",
            Self::WrongCode => "WRONG CODE",
            Self::FailedByClient => "FAILED BY CLIENT",
            Self::Informational => "INFORMATIONAL",
        }
    }

    /// Close verdicts that break a MUST of the closing handshake. FAILED BY CLIENT only says the
    /// server did not close TCP first, which RFC 6455 §7.1.1 puts as a SHOULD.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::WrongCode | Self::Unclean)
    }
}

/// One row of `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub behavior: Behavior,
    pub behavior_close: BehaviorClose,
    pub duration: u64,
    pub remote_close_code: Option<u16>,
    pub reportfile: String,
}

impl IndexEntry {
    /// Whether this result fails a run: a FAILED behavior or a closing that breaks a MUST.
    pub fn is_failure(&self) -> bool {
        self.behavior == Behavior::Failed || self.behavior_close.is_failure()
    }

    /// `behavior / behaviorClose`, as the terminal and the reports show them.
    pub fn verdicts(&self) -> String {
        format!("{} / {}", self.behavior.as_str(), self.behavior_close.as_str())
    }
}

/// One alternative as the report shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpectedRecord {
    pub grade: String,
    pub events: Vec<String>,
    pub close: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// One entry of the wire log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEntry {
    /// Milliseconds since the TCP connection was made.
    pub t: f64,
    /// `tx` (wsspec sent) or `rx` (the target sent).
    pub dir: String,
    /// `chunk` (one TCP read or write) or `frame`, or `event` (a timer, a drop).
    pub kind: String,
    pub len: u64,
    /// Text, or `0x`+hex, cut to a preview for big data.
    pub data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<FrameInfo>,
}

/// Header fields of a logged frame.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FrameInfo {
    pub opcode: u8,
    pub opcode_name: String,
    pub fin: bool,
    pub rsv: u8,
    pub mask: Option<String>,
}

/// The full record of one case against one agent (the per-case JSON file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseRecord {
    pub agent: String,
    pub id: String,
    pub title: String,
    pub description: String,
    pub rfc: String,
    pub level: String,
    pub requirement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub expectation: String,
    pub behavior: Behavior,
    pub behavior_close: BehaviorClose,
    /// Why `behavior` is what it is, in one line.
    pub result: String,
    /// Why `behaviorClose` is what it is, in one line.
    pub result_close: String,
    pub started: String,
    pub duration: u64,
    pub expected: Vec<ExpectedRecord>,
    pub received: Vec<String>,
    pub closed_by_me: bool,
    pub dropped_by_me: bool,
    pub was_clean: bool,
    pub was_not_clean_reason: Option<String>,
    pub local_close_code: Option<u16>,
    pub local_close_reason: Option<String>,
    pub remote_close_code: Option<u16>,
    pub remote_close_reason: Option<String>,
    /// `wss://`: the TLS version, cipher suite, ALPN protocol (and the client's SNI when the
    /// target is a client) of the connection, in one line; absent over plain TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    pub http_request: String,
    pub http_response: String,
    pub wirelog: Vec<WireEntry>,
    /// Entries left out of `wirelog` to bound its size.
    pub wirelog_elided: u64,
    pub reportfile: String,
}

impl CaseRecord {
    /// The reason that matters most: a failing field's first, then a behavior that is not OK.
    pub fn reason(&self) -> &str {
        let behavior_first = self.behavior == Behavior::Failed || (!self.behavior_close.is_failure() && self.behavior != Behavior::Ok);
        if behavior_first {
            &self.result
        } else {
            &self.result_close
        }
    }

    pub fn index_entry(&self) -> IndexEntry {
        IndexEntry {
            behavior: self.behavior,
            behavior_close: self.behavior_close,
            duration: self.duration,
            remote_close_code: self.remote_close_code,
            reportfile: self.reportfile.clone(),
        }
    }
}
