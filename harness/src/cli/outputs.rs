//! What happens after an agent's run: the summary on the terminal and the verdict that picks the
//! exit code. Shared by every command that runs cases.

use std::{collections::BTreeMap, path::Path};

use wsspec_reports::{Behavior, BehaviorClose, CaseRecord};

/// Output options common to the commands that run cases.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {}

/// Summarizes one agent's results (already written to `out`); true when the run should fail.
pub fn finish_agent(agent: &str, records: &[CaseRecord], seconds: f64, out: &Path, args: &OutputArgs) -> Result<bool, String> {
    let _ = (out, args);
    Ok(summarize(agent, records, seconds))
}

/// Prints counts and every failure; true when a case failed.
fn summarize(agent: &str, records: &[CaseRecord], seconds: f64) -> bool {
    let mut behaviors: BTreeMap<Behavior, usize> = BTreeMap::new();
    let mut closes: BTreeMap<BehaviorClose, usize> = BTreeMap::new();
    for r in records {
        *behaviors.entry(r.behavior).or_default() += 1;
        *closes.entry(r.behavior_close).or_default() += 1;
    }
    let counts = |pairs: Vec<(&str, usize)>| pairs.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ");
    let failures: Vec<&CaseRecord> = records.iter().filter(|r| r.index_entry().is_failure()).collect();
    eprintln!("\n{agent}: {} cases in {seconds:.1} s", records.len());
    eprintln!("  behavior:      {}", counts(behaviors.iter().map(|(k, n)| (k.as_str(), *n)).collect()));
    eprintln!("  behaviorClose: {}", counts(closes.iter().map(|(k, n)| (k.as_str(), *n)).collect()));
    for r in &failures {
        let reason = if r.behavior == Behavior::Failed { &r.result } else { &r.result_close };
        eprintln!("  FAILED {:<9} {} / {}: {reason}", r.id, r.behavior.as_str(), r.behavior_close.as_str());
    }
    eprintln!("  {} failed", failures.len());
    !failures.is_empty()
}
