//! What one result means for a run's exit code. Without expectations a result fails when its
//! verdicts break a MUST; with them, when it is not what the project said it expects.

use crate::IndexEntry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Counts as a pass.
    Passed,
    /// Fails the run: a failing verdict, or a result the expectations do not accept.
    Failed { why: String },
    /// Not a clean pass, but accepted by an expectation; `why` is the expectation's reason.
    Expected { why: String },
    /// An expectation of something worse, but the result is a clean pass: the entry is stale. Fails
    /// the run, so fixed bugs get their entries removed.
    Stale { why: String },
}

impl Status {
    /// The rule without expectations: fail on `IndexEntry::is_failure`. `recorded` is the
    /// result's reason (`CaseRecord::reason`), when its record could be read.
    pub fn of_verdicts(entry: &IndexEntry, recorded: Option<&str>) -> Self {
        if entry.is_failure() {
            Self::Failed { why: reason(entry, recorded) }
        } else {
            Self::Passed
        }
    }

    pub fn fails_run(&self) -> bool {
        matches!(self, Self::Failed { .. } | Self::Stale { .. })
    }

    /// The explanation, if there is one to show.
    pub fn why(&self) -> Option<&str> {
        match self {
            Self::Passed => None,
            Self::Failed { why } | Self::Expected { why } | Self::Stale { why } => Some(why),
        }
    }
}

/// The one-line reason for a result: the recorded one (`CaseRecord::reason`) when there is one,
/// else the verdicts.
pub fn reason(entry: &IndexEntry, recorded: Option<&str>) -> String {
    match recorded {
        Some(reason) => reason.to_string(),
        None => format!("{} / {} (no case record)", entry.behavior.as_str(), entry.behavior_close.as_str()),
    }
}
