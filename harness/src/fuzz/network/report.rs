//! What a `wsspec fuzz` run reports: its counts, its findings, its progress, and why it could not
//! be done.

use std::{path::PathBuf, time::Duration};

/// Counts so far.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Sequences generated (`--sequences` counts these), sent or not.
    pub generated: u64,
    /// Sequences sent and ended: decided ([`Stats::opened`]), dropped or cut short.
    pub sequences: u64,
    /// Of those, sequences sent on a WebSocket an earlier sequence left open and idle (no opening
    /// handshake of their own).
    pub reused: u64,
    /// Sequences whose WebSocket opened and that were judged (decided): only those tested anything.
    pub opened: u64,
    /// Sequences whose WebSocket did not open (a target dropping some connections): undecided,
    /// neither a finding nor, while others open, a stop.
    pub dropped: u64,
    /// Times a sequence was refused with an answer (a status, a closed connection) while other
    /// connections were open or opening: a target serving only so many at once. Not counted as
    /// run; the sequence is run again later, fewer at once ([`Stats::dropped`] after a few times,
    /// or when the run ends first).
    pub refused: u64,
    /// Of those, refusals of a kind the target was seen to refuse intermittently, whatever the
    /// load (a plain opening handshake opened right after one, with more connections open): run
    /// again at once, the sequences in flight kept.
    pub intermittent: u64,
    /// Sequences in flight when an interrupt's grace period ran out: cut short, undecided.
    pub abandoned: u64,
    pub divergent: u64,
    pub findings: usize,
    pub elapsed: Duration,
    /// Sequences sent with permessage-deflate agreed (compressed messages among their frames).
    pub compressed: u64,
    /// Generated sequences left out because the model cannot judge them
    /// ([`oracle::Outcome::undecidable`]).
    pub undecidable: u64,
    /// Divergent sequences that conformed when run again at once: not findings (a starved run on
    /// a loaded machine, or a target that is not deterministic), only counted.
    pub unconfirmed: u64,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.sequences as f64 / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// What kind of trouble a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The target did something the oracle does not allow.
    Divergence,
    /// The target stopped answering mid-connection: wsspec had to drop it after its close went
    /// unanswered.
    Hang,
    /// The target stopped accepting connections; the sequences that ran last are the suspects.
    Crash,
}

/// A finding, written to the run's case file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    /// Its case ids in the file (several suspects for a crash).
    pub ids: Vec<String>,
    /// The sequence's number in the run: `--seed` and this number generate it again.
    pub index: u64,
    /// The sequences (by number) that ran before it on its connection and that it needs to fail:
    /// the finding sends them and it, concatenated. Empty when it fails alone.
    pub after: Vec<u64>,
    /// Frames before and after minimization.
    pub frames: (usize, usize),
    /// What the target did wrong, as the judge said it.
    pub reason: String,
    /// The minimized case failed again when run once more; if not, the original sequence (which
    /// failed twice) is written instead.
    pub reproduced: bool,
    /// Why it was written whole, not minimized (the run was interrupted first, the target went
    /// away first, minimization's time budget ran out, or it is a crash's suspect); `None` when it
    /// was minimized.
    pub unminimized: Option<String>,
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct Report {
    pub stats: Stats,
    pub findings: Vec<Finding>,
    /// The findings file, when there are findings.
    pub file: Option<PathBuf>,
    /// Divergences never minimized (the queue was full, or time was up after the first finding).
    pub unexamined: u64,
    /// The run was interrupted (SIGINT, SIGTERM): the reason. Confirmed divergences not yet
    /// minimized were then written whole.
    pub interrupted: Option<String>,
}

/// What a run reports as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// About once a second: the counts so far.
    Tick(&'a Stats),
    /// A finding, once it is in the file.
    Finding(&'a Finding, &'a std::path::Path),
}

/// Why a run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("cannot reach the target {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("cannot write findings to {path}: {source}")]
    Output { path: String, source: std::io::Error },
    /// The target accepted TCP connections, but not one sequence could open a WebSocket: nothing
    /// was tested.
    #[error("no sequence could open a WebSocket on {url} (0 of {tried} opened): {reason}")]
    NeverOpened { url: String, tried: u64, reason: String },
    /// Compressed messages were required, and the target does not agree to permessage-deflate.
    #[error("{url} declined permessage-deflate (offer `{offer}`): {reason}")]
    DeflateDeclined { url: String, offer: &'static str, reason: String },
}
