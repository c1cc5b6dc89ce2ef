//! The gate: what decides whether a result fails the run. Without `--expect`, the verdicts
//! (`Status::of_verdicts`: behavior FAILED, or behaviorClose FAILED, WRONG CODE or UNCLEAN); with
//! it, the expectations file, which also accepts listed non-passes and fails on stale entries.

use wsspec::expectations::Expectations;
use wsspec_reports::{IndexEntry, Status};

use super::OutputArgs;

/// What decides whether a result fails the run.
pub(super) enum Gate {
    /// Without expectations: `IndexEntry::is_failure`.
    Verdicts,
    Expectations(Expectations),
}

impl Gate {
    pub(super) fn load(args: &OutputArgs, known_id: impl Fn(&str) -> bool) -> Result<Self, String> {
        match &args.expect {
            None => Ok(Self::Verdicts),
            Some(path) if args.update_expectations && !path.exists() => Ok(Self::Expectations(Expectations::default())),
            Some(path) => Expectations::load(path, known_id).map(Self::Expectations),
        }
    }

    /// Learns from `results` (agent, id, verdicts) which expectation entries still accept a
    /// non-pass ([`Expectations::settle`]); call it with every result the gate is to judge.
    pub(super) fn settle<'a>(mut self, results: impl IntoIterator<Item = (&'a str, &'a str, &'a IndexEntry)>) -> Self {
        if let Self::Expectations(expectations) = &mut self {
            expectations.settle(results);
        }
        self
    }

    /// `recorded` is the result's reason (`CaseRecord::reason`), when known.
    pub(super) fn status(&self, agent: &str, id: &str, entry: &IndexEntry, recorded: Option<&str>) -> Status {
        match self {
            Self::Verdicts => Status::of_verdicts(entry, recorded),
            Self::Expectations(expectations) => expectations.status(agent, id, entry, recorded),
        }
    }
}
