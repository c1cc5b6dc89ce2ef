//! The terminal summary of one agent's part of a run: counts per verdict, every result that fails
//! the run (or, with expectations, is unexpected or stale), wsspec's own errors, the cases a client
//! never ran, and how the run stopped. It also gives the agent's outcome.

use std::collections::BTreeMap;

use wsspec_reports::{Behavior, BehaviorClose, CaseSummary, IndexEntry, Status};

use super::{
    super::{
        progress::{agent_name, terminal_safe},
        selection::plural,
        Outcome,
    },
    gate::Gate,
    OutputArgs,
};

/// One agent's part of a run, as its summary shows it.
pub struct AgentResults<'a> {
    pub agent: &'a str,
    /// Judged results, in case order (their records are in the report folder).
    pub results: &'a [CaseSummary],
    /// Cases wsspec could not run through its own fault: (id, what went wrong).
    pub errors: &'a [(String, String)],
    /// Selected cases without a result or an error, not reached by an interrupted run.
    pub not_run: &'a [String],
    /// Selected cases a complete run has no result for (a client that never ran them), each a
    /// failure, and what to say about them (a hint, or nothing).
    pub missing: (&'a [String], String),
    /// How many cases were selected for the agent.
    pub selected: usize,
    /// From the agent's first case to its last result.
    pub seconds: f64,
    /// Lines about how the run went, said before the last: e.g. that the target refused cases
    /// while others were in flight and they ran again.
    pub notes: &'a [String],
    /// The line saying how the run stopped before `not_run` (`interrupted: 19 of 20 cases ran
    /// (SIGINT received); 1 not run`): the summary's last, said once.
    pub stopped: Option<&'a str>,
}

/// Summarizes one agent's results (already written to the report folder; `finish_run` renders them).
/// The outcome: Failed when a result fails the run, Incomplete when wsspec failed on a case.
pub fn finish_agent(agent: &AgentResults<'_>, args: &OutputArgs) -> Result<Outcome, String> {
    let results: Vec<_> = agent.results.iter().map(|r| (r.id.as_str(), r.entry.clone(), Some(r.reason.clone()))).collect();
    let gate = Gate::load(args, |_| true)?.settle(results.iter().map(|(id, entry, _)| (agent.agent, *id, entry)));
    let heading = format!("{} in {:.1} s", plural(agent.results.len(), "case"), agent.seconds);
    let failing = summarize(agent.agent, &results, &heading, &gate);
    let mut outcome = if failing.any() { Outcome::Failed } else { Outcome::Passed };
    for (id, error) in agent.errors {
        say!("  ERROR  {id:<9} {error}");
    }
    if !agent.errors.is_empty() {
        say!("  {} not run through wsspec's own fault (not counted against the target)", plural(agent.errors.len(), "case"));
        outcome = outcome.max(Outcome::Incomplete);
    }
    let (missing, hint) = &agent.missing;
    if !missing.is_empty() {
        say!("  MISSING {} the client never ran: {}{hint}", plural(missing.len(), "case"), abbreviate(missing));
        say!("  {failing}, {} missing", missing.len());
        outcome = outcome.max(Outcome::Failed);
    } else {
        say!("  {failing}");
    }
    for note in agent.notes {
        say!("  {note}");
    }
    if !agent.not_run.is_empty() {
        match agent.stopped {
            Some(line) => say!("  {line}"),
            None => say!("  stopped: {} of {} cases ran; {} not run", agent.results.len(), agent.selected, agent.not_run.len()),
        }
    }
    Ok(outcome)
}

/// How many of an agent's results fail the run, as the summary's count line says it: without
/// expectations `N failed` (a failing verdict); with them `N unexpected, M stale`, the words of the
/// gate's line, since a stale entry (an expected failure that now passes) is no failure of the target.
pub(super) struct Failing {
    /// Results that fail the run: a failing verdict, or (with expectations) one not expected.
    failed: usize,
    /// Expectations of a failure whose result now passes cleanly (`Status::Stale`).
    stale: usize,
    expectations: bool,
}

impl Failing {
    /// Whether any result fails the run (a stale entry does too).
    pub(super) fn any(&self) -> bool {
        self.failed + self.stale > 0
    }
}

impl std::fmt::Display for Failing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.expectations {
            true => write!(f, "{} unexpected, {} stale", self.failed, self.stale),
            false => write!(f, "{} failed", self.failed),
        }
    }
}

/// Prints counts and every result that fails the run; returns how many do (the caller prints it,
/// as the summary's count line).
/// `results`: (id, verdicts, recorded reason).
pub(super) fn summarize(agent: &str, results: &[(&str, IndexEntry, Option<String>)], heading: &str, gate: &Gate) -> Failing {
    let mut behaviors: BTreeMap<Behavior, usize> = BTreeMap::new();
    let mut closes: BTreeMap<BehaviorClose, usize> = BTreeMap::new();
    for (_, entry, _) in results {
        *behaviors.entry(entry.behavior).or_default() += 1;
        *closes.entry(entry.behavior_close).or_default() += 1;
    }
    let counts = |pairs: Vec<(&str, usize)>| pairs.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ");
    say!("\n{}: {heading}", agent_name(agent));
    // A run where no case ran has no counts to show.
    if !results.is_empty() {
        say!("  behavior:      {}", counts(behaviors.iter().map(|(k, n)| (k.as_str(), *n)).collect()));
        say!("  behaviorClose: {}", counts(closes.iter().map(|(k, n)| (k.as_str(), *n)).collect()));
    }
    let expectations = matches!(gate, Gate::Expectations(_));
    let mut failing = Failing { failed: 0, stale: 0, expectations };
    for (id, entry, record) in results {
        let (label, why) = match gate.status(agent, id, entry, record.as_deref()) {
            Status::Failed { why } => {
                failing.failed += 1;
                (if expectations { "UNEXPECTED" } else { "FAILED" }, why)
            }
            Status::Stale { why } => {
                failing.stale += 1;
                ("STALE", why)
            }
            Status::Passed | Status::Expected { .. } => continue,
        };
        say!("  {label} {:<9} {}: {}", terminal_safe(id), entry.verdicts(), terminal_safe(&why));
    }
    failing
}

/// The first ten of `ids`, and how many more.
pub fn abbreviate(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(10).map(String::as_str).collect();
    let more = if ids.len() > 10 { format!(" and {} more", ids.len() - 10) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn abbreviates_long_lists() {
        let ids: Vec<String> = (1..=12).map(|i| format!("1.{i}")).collect();
        assert!(super::abbreviate(&ids).ends_with("1.10 and 2 more"));
    }
}
