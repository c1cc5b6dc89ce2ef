//! The commands that read report folders already written: `wsspec report` (summarize, render and
//! gate every agent stored) and `wsspec diff` (what changed between two runs). Both refuse to pass a
//! folder that is not a complete record of its runs.

use std::path::Path;

use wsspec_reports::{case_order, ReportError, StoredResults};

use super::{
    super::{print_stdout, progress::terminal_safe, Outcome},
    finish_run,
    gate::Gate,
    summary::summarize,
    warn_unmatched,
    OutputArgs,
};

/// `wsspec report`: summarizes every agent stored in `dir` (a report folder or its index.json),
/// renders the reports once, and gates on all of them.
pub fn report_stored(dir: &Path, args: &OutputArgs) -> Result<Outcome, String> {
    let results = StoredResults::load(dir).map_err(|e| e.to_string())?;
    let gate = Gate::load(args, |_| true)?.settle(results.entries());
    let mut ids = results.case_ids();
    ids.extend(results.run.agents.values().flat_map(|run| run.selected.iter().map(String::as_str)));
    warn_unmatched(args, &ids)?;
    let mut failed = false;
    for (agent, cases) in &results.index {
        // One record read at a time; only its reason is kept.
        let mut stored = Vec::new();
        for (id, entry) in cases {
            let recorded = match results.record(agent, id) {
                Ok(record) => Some(record.reason().to_string()),
                Err(refused @ ReportError::Refused { .. }) => return Err(refused.to_string()),
                Err(_) => None, // shown from index.json alone, and counted by `render_reports`
            };
            stored.push((id.as_str(), entry.clone(), recorded));
        }
        stored.sort_by_key(|(id, _, _)| case_order(id));
        let failing = summarize(agent, &stored, &format!("{} results in {}", stored.len(), results.dir.display()), &gate);
        say!("  {failing}");
        // What the run's summary said of how its verdicts were obtained, said again.
        for note in results.run.agents.get(agent).map_or(&[][..], |run| &run.notes) {
            say!("  {}", terminal_safe(note));
        }
        failed |= failing.any();
    }
    let complete = check_complete(&results, StoredResults::problems);
    let outcome = if !complete { Outcome::Incomplete } else if failed { Outcome::Failed } else { Outcome::Passed };
    finish_run(&results.dir, &results.agents(), outcome, args, None)
}

/// `wsspec diff OLD NEW`: prints what changed between two stored runs. Failed when a verdict changed
/// or a result is new or missing (with `strict`, a close code too); Incomplete (exit 2) when either
/// folder is not a complete record of its runs (interrupted, unfinished, inconsistent), as for
/// `wsspec report`: a diff against half a run says nothing.
pub fn diff_stored(old: &Path, new: &Path, strict: bool) -> Result<Outcome, String> {
    let old = StoredResults::load(old).map_err(|e| e.to_string())?;
    let new = StoredResults::load(new).map_err(|e| e.to_string())?;
    let diff = wsspec_reports::diff::diff(&old.index, &new.index);
    if !print_stdout(&format!("{diff}\n"))? {
        // A reader that stopped reading (`| head`) is no failure, as with any Unix filter.
        return Ok(Outcome::Passed);
    }
    let complete = check_complete(&old, StoredResults::unfinished) & check_complete(&new, StoredResults::unfinished);
    Ok(if !complete {
        Outcome::Incomplete
    } else if diff.fails(strict) {
        Outcome::Failed
    } else {
        Outcome::Passed
    })
}

/// Prints what `problems` finds keeping `results` from being a complete record of its runs
/// (`StoredResults::problems`, or `unfinished` for a diff); true when nothing does. A
/// folder without `wsspec-run.json` (one Autobahn wrote) is accepted with a note that its runs'
/// completeness is unknown.
fn check_complete(results: &StoredResults, problems: fn(&StoredResults) -> Vec<String>) -> bool {
    if !results.has_run_file {
        say!(
            "\nnote: {} has no {}: cannot tell whether its runs finished or which cases they selected",
            results.dir.display(),
            wsspec_reports::sink::RUN_FILE
        );
    }
    let problems = problems(results);
    if !problems.is_empty() {
        say!("\nINCOMPLETE: {} does not hold every result its runs selected", results.dir.display());
        for problem in &problems {
            say!("  {}", terminal_safe(problem));
        }
    }
    problems.is_empty()
}
