//! The results model: Autobahn's two verdict fields, plus everything a reader needs to see why.

use std::collections::BTreeMap;

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

/// Where a bounded wire log left entries out, and how much: `wirelog` holds the entries before
/// `at` (the head, from the opening handshake on) and after it (the tail, down to the closing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireGap {
    /// How many `wirelog` entries come before the gap.
    pub at: usize,
    /// Entries left out (chunks, frames and events).
    pub entries: u64,
    /// Frames among them.
    pub frames: u64,
    /// Bytes the left-out chunks carried on the wire, both directions.
    pub bytes: u64,
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
    /// The events the target sent, as kept: the first and the last, with one line between them
    /// saying how many were left out (`received_elided`).
    pub received: Vec<String>,
    /// Events left out of `received`.
    #[serde(default)]
    pub received_elided: u64,
    /// Every event received, kept or not, counted by kind (`text message`, `ping`, …).
    #[serde(default)]
    pub received_counts: BTreeMap<String, u64>,
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
    /// Where and how much of the wire log was left out, when anything was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wirelog_gap: Option<WireGap>,
    /// The bounds of wsspec this case reached (events or wire log cut to a preview, a flood, a
    /// message over `max_message`), one sentence each. A bound is never a verdict by itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bounds: Vec<String>,
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

    /// What a run keeps of this record once it is on disk.
    pub fn summary(&self) -> CaseSummary {
        CaseSummary { agent: self.agent.clone(), id: self.id.clone(), entry: self.index_entry(), reason: self.reason().to_string() }
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

/// What a run keeps in memory of one result once its [`CaseRecord`] is written: the verdicts
/// (`index.json`'s entry) and the reason that matters most. A few hundred bytes, where a record
/// with its wire log is up to [`MAX_RECORD_REPORT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub agent: String,
    pub id: String,
    pub entry: IndexEntry,
    /// [`CaseRecord::reason`].
    pub reason: String,
}

impl CaseSummary {
    /// Whether this result fails a run ([`IndexEntry::is_failure`]).
    pub fn is_failure(&self) -> bool {
        self.entry.is_failure()
    }
}

/// The most bytes a case record's JSON file may take, however few cases a run selects; within it,
/// a record takes its share of the run's report budget (`budget::CaseFilesBudget`). A record over
/// either is cut (its wire log and events first) and says so in `bounds`.
pub const MAX_RECORD_REPORT_BYTES: usize = 96 * 1024;

/// The most characters of a reason (`result`, `resultClose`) a record keeps: a reason is a sentence
/// or two, and the report's index and a failing page's banner repeat it.
pub const MAX_REASON_CHARS: usize = 600;

/// How the line in `received` that stands for left-out events begins.
pub const ELIDED_EVENTS: &str = "… ";

/// The line in `received` that stands for `count` left-out events.
pub fn elided_events_line(count: u64) -> String {
    format!("{ELIDED_EVENTS}{count} events not kept here (every event is counted by kind in receivedCounts)")
}

/// How a line in `received` that stands for an event and the same event repeated ends.
const LIKE_THIS_ONE: &str = " more like this one)";

/// The line in `received` for `event` followed by `more` events exactly like it (a target that
/// floods pings is one line, not thirty).
pub fn repeated_event_line(event: &str, more: u64) -> String {
    format!("{event} (and {more}{LIKE_THIS_ONE}")
}

/// How many events a line of `received` lists: 1, or 1 + N for [`repeated_event_line`]'s lines, 0
/// for [`elided_events_line`]'s.
pub fn events_in_line(line: &str) -> u64 {
    if line.starts_with(ELIDED_EVENTS) {
        return 0;
    }
    let more = line.strip_suffix(LIKE_THIS_ONE).and_then(|l| l.rsplit_once(" (and ")).and_then(|(_, n)| n.parse::<u64>().ok());
    1 + more.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_received_says_how_many_events_it_stands_for() {
        assert_eq!(events_in_line("ping \"a\""), 1);
        assert_eq!(events_in_line(&repeated_event_line("ping \"(and 3 more like this one)\"", 99_999)), 100_000);
        assert_eq!(events_in_line(&elided_events_line(5)), 0);
    }
}
