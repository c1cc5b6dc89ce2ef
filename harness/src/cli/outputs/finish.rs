//! The end of a run: the reports rendered once from everything stored (HTML always, JUnit when
//! asked), the expectation totals and the expectations file's update when asked, and the outcome.

use std::path::Path;

use wsspec::{catalog::Catalog, engine::Stop};
use wsspec_reports::{
    html::{Html, IncompleteRun},
    junit::Junit,
    render, CaseRecord, IndexEntry, Output, SectionTitles, Status, StoredResults,
};

use super::{
    super::{selection::plural, Outcome},
    gate::Gate,
    section_titles, OutputArgs,
};

/// After the last agent: renders the reports of everything stored in `out` (every agent, once; the
/// JUnit file only `agents`, the run's: `wsspec report` passes them all), the expectation totals of `agents`, the expectations update when asked, and the outcome (`outcome` is
/// what `finish_agent` and the command found). With the run's `stop`, a signal that came while the
/// reports were rendered ends the run as interrupted before the expectations file could be rewritten.
pub fn finish_run(out: &Path, agents: &[String], mut outcome: Outcome, args: &OutputArgs, stop: Option<&Stop>) -> Result<Outcome, String> {
    // A run where no case produced a result (a client that never connected) has nothing to render.
    let rendered = std::fs::symlink_metadata(out.join("index.json")).is_ok();
    if rendered {
        render_reports(out, agents, args)?;
    } else if let Err(e) = std::fs::remove_file(out.join("index.html")) {
        // The page `mark_unfinished` left says a run may still be going: none is, and none reported.
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!("cannot remove {}: {e}", out.join("index.html").display()));
        }
    }
    if let (Gate::Expectations(mut expectations), Some(path)) = (Gate::load(args, |_| true)?, &args.expect) {
        let results = StoredResults::load(out).map_err(|e| e.to_string())?;
        let of_run: Vec<(&str, &str, &IndexEntry)> = results.entries().filter(|(agent, ..)| agents.iter().any(|a| a == agent)).collect();
        expectations.settle(of_run.iter().copied());
        let statuses: Vec<Status> = of_run.iter().map(|(agent, id, entry)| expectations.status(agent, id, entry, None)).collect();
        let count = |f: fn(&Status) -> bool| statuses.iter().filter(|s| f(s)).count();
        say!(
            "expectations {}: {} as expected ({} of them accepted non-passes), {} unexpected, {} stale",
            path.display(),
            plural(count(|s| !s.fails_run()), "result"),
            count(|s| matches!(s, Status::Expected { .. })),
            count(|s| matches!(s, Status::Failed { .. })),
            count(|s| matches!(s, Status::Stale { .. })),
        );
        if let Some(stop) = stop {
            // A signal while the reports were rendered: the run was asked to stop, the file stays.
            outcome = super::super::signal_received(stop, outcome, "while the reports were written");
        }
        if args.update_expectations && outcome >= Outcome::Incomplete {
            say!("expectations: {} left unchanged: the run is interrupted or incomplete, so its results are not all there", path.display());
        } else if args.update_expectations {
            let updated = expectations.updated(of_run);
            // Whole or not at all: a run killed while it writes leaves the earlier file.
            wsspec_reports::fs::write_atomically(path, updated.to_toml().as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let entries = match updated.entries.len() {
                1 => "1 entry".to_string(),
                n => format!("{n} entries"),
            };
            say!("expectations: wrote {} ({entries}); review the reasons before committing", path.display());
            // The results are now all expected; an incomplete or interrupted run stays so.
            if outcome == Outcome::Failed {
                outcome = Outcome::Passed;
            }
        }
    }
    // Only reports that were written are announced.
    if rendered {
        say!("HTML report: {}", out.join("index.html").display());
        if let Some(junit) = &args.junit {
            say!("JUnit: {}", junit.display());
        }
    }
    Ok(outcome)
}

/// Renders everything stored in `out` as the options ask: the HTML report with every agent of it,
/// the JUnit file with `agents` (the run's) only.
fn render_reports(out: &Path, agents: &[String], args: &OutputArgs) -> Result<(), String> {
    let results = StoredResults::load(out).map_err(|e| e.to_string())?;
    let gate = Gate::load(args, |_| true)?.settle(results.entries());
    // The titles the runs recorded (their catalog, maybe --catalog), else the built-in catalog's.
    let titles = match results.run.sections.is_empty() {
        true => Catalog::embedded().map(|c| section_titles(&c)).unwrap_or_default(),
        false => SectionTitles(results.run.sections.clone()),
    };
    // What each run recorded of how it was made and went, in the header: a report made without
    // certificate checks, or through a target refusing connections, says so.
    let html = Html::new(out, results.agents(), titles.clone()).with_notes(results.run.notes()).with_incomplete(IncompleteRun::of(&results));
    let mut outputs: Vec<Box<dyn Output>> = vec![Box::new(html)];
    if let Some(path) = &args.junit {
        outputs.push(Box::new(Junit::new(path, titles).only(agents.iter().cloned())));
    }
    let unreadable =
        render(&results, |agent, id, entry, record| gate.status(agent, id, entry, record.map(CaseRecord::reason)), outputs).map_err(|e| e.to_string())?;
    if let Some(first) = unreadable.first() {
        say!(
            "wsspec: warning: {} case records could not be read, their pages show only the verdicts (first: {first})",
            unreadable.len()
        );
    }
    Ok(())
}
