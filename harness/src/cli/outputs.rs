//! What happens after cases ran: the terminal summary, the reports rendered from the stored
//! results (HTML always, JUnit when asked), the expectations gate and the exit code. Shared by every
//! command that runs cases, and by `wsspec report`.
//!
//! A command calls `check` and `open_sink` before running anything, `finish_agent` after each agent
//! (the summary), and `finish_run` once at the end, which renders the reports of every agent once
//! (rendering per agent cost a whole re-render each: 98 s more for 100 one-case agents). An
//! interrupted run renders too; `wsspec report` renders any folder again.

use std::{collections::BTreeMap, path::Path, path::PathBuf};

use wsspec::{
    engine::Stop,
    catalog::{Catalog, Section},
    expectations::Expectations,
};
use wsspec_reports::{
    case_order,
    html::{self, Html, IncompleteRun},
    junit::{self, Junit}, render, sink::Sink, Behavior, BehaviorClose, CaseRecord, CaseSummary, IndexEntry, Output, ReportError,
    SectionTitles,
    Status, StoredResults,
};

use super::{
    progress::{agent_name, terminal_safe},
    Outcome,
};

/// Output options common to the commands that run cases.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Also write JUnit XML: one testsuite per section, one testcase per case and agent of this run
    /// (`wsspec report`: of every agent in the folder).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Expectations (TOML): the results this project accepts besides a clean pass, and why. The run
    /// then exits 1 on any other result, and on an entry whose cases now pass (stale).
    #[arg(long, value_name = "FILE")]
    expect: Option<PathBuf>,
    /// Rewrite the --expect file so that every result of this run is expected (entries that still
    /// hold are kept), and exit 0. An interrupted or incomplete run leaves the file unchanged.
    #[arg(long, requires = "expect")]
    update_expectations: bool,
}

/// What decides whether a result fails the run.
enum Gate {
    /// Without expectations: `IndexEntry::is_failure`.
    Verdicts,
    Expectations(Expectations),
}

impl Gate {
    fn load(args: &OutputArgs, known_id: impl Fn(&str) -> bool) -> Result<Self, String> {
        match &args.expect {
            None => Ok(Self::Verdicts),
            Some(path) if args.update_expectations && !path.exists() => Ok(Self::Expectations(Expectations::default())),
            Some(path) => Expectations::load(path, known_id).map(Self::Expectations),
        }
    }

    /// `recorded` is the result's reason (`CaseRecord::reason`), when known.
    fn status(&self, agent: &str, id: &str, entry: &IndexEntry, recorded: Option<&str>) -> Status {
        match self {
            Self::Verdicts => Status::of_verdicts(entry, recorded),
            Self::Expectations(expectations) => expectations.status(agent, id, entry, recorded),
        }
    }
}

/// Checks the options before any case runs, so a bad expectations file costs nothing; its exact
/// case ids must exist in `catalog`. A --junit path must name a file that can be created or
/// replaced: not a folder, FIFO or device, and in a folder that exists. A file already there (an
/// earlier run's) is removed now, so a run that dies before writing its own never leaves an old
/// green one behind.
pub fn check(args: &OutputArgs, catalog: &Catalog) -> Result<(), String> {
    if let Some(junit) = &args.junit {
        check_output_file(junit).map_err(|e| format!("--junit {}: {e}", junit.display()))?;
        if std::fs::symlink_metadata(junit).is_ok_and(|m| !m.is_dir()) {
            std::fs::remove_file(junit).map_err(|e| format!("--junit {}: cannot replace the earlier file: {e}", junit.display()))?;
        }
    }
    Gate::load(args, |id| catalog.case(id).is_some()).map(drop)
}

/// Prints one warning line per `--expect` case pattern that matches none of `ids` (the cases the
/// run selects, or a stored folder holds), naming the file, its line and the pattern: such an entry
/// says nothing about this run. Not an error: a selection may leave those cases out on purpose.
pub fn warn_unmatched(args: &OutputArgs, ids: &[&str]) -> Result<(), String> {
    if let (Gate::Expectations(expectations), Some(path)) = (Gate::load(args, |_| true)?, &args.expect) {
        for (line, pattern) in expectations.unmatched(ids) {
            say!("wsspec: warning: {}:{line}: `{}` matches no case of this run; the entry says nothing about it", path.display(), terminal_safe(pattern));
        }
    }
    Ok(())
}

fn check_output_file(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => return Err("is a folder, not a file".into()),
        Ok(meta) if !meta.is_file() && !meta.file_type().is_symlink() => return Err("is not a regular file (a FIFO or a device)".into()),
        _ => {}
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!("the folder {} does not exist", dir.display()));
    }
    Ok(())
}

/// The report folder: `--out` when given (it wins over a spec file's `outdir`, and says so), else
/// the spec's `outdir`, else `default`.
pub fn report_folder(out: Option<&Path>, outdir: Option<&str>, default: &str) -> PathBuf {
    match (out, outdir) {
        (Some(out), Some(outdir)) => {
            say!("wsspec: reports go to {} (--out), not to the spec file's outdir {outdir}", out.display());
            out.to_path_buf()
        }
        (Some(out), None) => out.to_path_buf(),
        (None, Some(outdir)) => PathBuf::from(outdir),
        (None, None) => PathBuf::from(default),
    }
}

/// Opens the report folder for a run, before any case runs: an unwritable folder or an unreadable
/// `index.json` is an error (exit 2). Records the section titles of the catalog the run loaded.
pub fn open_sink(out: &Path, catalog: &Catalog) -> Result<Sink, String> {
    let sink = Sink::open(out).map_err(|e| format!("the report folder: {e}"))?;
    sink.set_sections(section_titles(catalog).0).map_err(|e| e.to_string())?;
    Ok(sink)
}

/// Replaces, before any case runs, every report file a gate may read that the run writes only at
/// its end: `index.html` and the `--junit` file then say the run did not finish until the run
/// writes them (each atomically), so a run killed at any moment (`kill -9`) never leaves an
/// earlier run's report that reads as this one passing. (`index.json` and `wsspec-run.json` are
/// written as results come; the sink marks the run's agents as running.)
pub fn mark_unfinished(out: &Path, args: &OutputArgs) -> Result<(), String> {
    html::write_unfinished(out).map_err(|e| e.to_string())?;
    if let Some(path) = &args.junit {
        junit::write_unfinished(path).map_err(|e| e.to_string())?;
    }
    Ok(())
}

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
    let gate = Gate::load(args, |_| true)?;
    let results: Vec<_> = agent.results.iter().map(|r| (r.id.as_str(), r.entry.clone(), Some(r.reason.clone()))).collect();
    let heading = format!("{} in {:.1} s", super::selection::plural(agent.results.len(), "case"), agent.seconds);
    let failed = summarize(agent.agent, &results, &heading, &gate);
    let mut outcome = if failed > 0 { Outcome::Failed } else { Outcome::Passed };
    for (id, error) in agent.errors {
        say!("  ERROR  {id:<9} {error}");
    }
    if !agent.errors.is_empty() {
        say!("  {} not run through wsspec's own fault (not counted against the target)", super::selection::plural(agent.errors.len(), "case"));
        outcome = outcome.max(Outcome::Incomplete);
    }
    let (missing, hint) = &agent.missing;
    if !missing.is_empty() {
        say!("  MISSING {} the client never ran: {}{hint}", super::selection::plural(missing.len(), "case"), abbreviate(missing));
        say!("  {failed} failed, {} missing", missing.len());
        outcome = outcome.max(Outcome::Failed);
    } else {
        say!("  {failed} failed");
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

/// `wsspec report`: summarizes every agent stored in `dir` (a report folder or its index.json),
/// renders the reports once, and gates on all of them.
pub fn report_stored(dir: &Path, args: &OutputArgs) -> Result<Outcome, String> {
    let gate = Gate::load(args, |_| true)?;
    let results = StoredResults::load(dir).map_err(|e| e.to_string())?;
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
        let count = summarize(agent, &stored, &format!("{} results in {}", stored.len(), results.dir.display()), &gate);
        say!("  {count} failed");
        failed |= count > 0;
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
    if !super::print_stdout(&format!("{diff}\n"))? {
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

/// After the last agent: renders the reports of everything stored in `out` (every agent, once; the
/// JUnit file only `agents`, the run's: `wsspec report` passes them all), the expectation totals of `agents`, the expectations update when asked, and the outcome (`outcome` is
/// what `finish_agent` and the command found). With the run's `stop`, a signal that came while the
/// reports were rendered ends the run as interrupted before the expectations file could be rewritten.
pub fn finish_run(out: &Path, agents: &[String], mut outcome: Outcome, args: &OutputArgs, stop: Option<&Stop>) -> Result<Outcome, String> {
    // A run where no case produced a result (a client that never connected) has nothing to render.
    let rendered = std::fs::symlink_metadata(out.join("index.json")).is_ok();
    if rendered {
        render_reports(out, agents, args, &Gate::load(args, |_| true)?)?;
    } else if let Err(e) = std::fs::remove_file(out.join("index.html")) {
        // The page `mark_unfinished` left says a run may still be going: none is, and none reported.
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!("cannot remove {}: {e}", out.join("index.html").display()));
        }
    }
    if let (Gate::Expectations(expectations), Some(path)) = (Gate::load(args, |_| true)?, &args.expect) {
        let results = StoredResults::load(out).map_err(|e| e.to_string())?;
        let of_run: Vec<(&str, &str, &IndexEntry)> = results
            .index
            .iter()
            .filter(|(agent, _)| agents.contains(agent))
            .flat_map(|(agent, cases)| cases.iter().map(move |(id, entry)| (agent.as_str(), id.as_str(), entry)))
            .collect();
        let statuses: Vec<Status> = of_run.iter().map(|(agent, id, entry)| expectations.status(agent, id, entry, None)).collect();
        let count = |f: fn(&Status) -> bool| statuses.iter().filter(|s| f(s)).count();
        say!(
            "expectations {}: {} results as expected ({} of them accepted non-passes), {} unexpected, {} stale",
            path.display(),
            count(|s| !s.fails_run()),
            count(|s| matches!(s, Status::Expected { .. })),
            count(|s| matches!(s, Status::Failed { .. })),
            count(|s| matches!(s, Status::Stale { .. })),
        );
        if let Some(stop) = stop {
            // A signal while the reports were rendered: the run was asked to stop, the file stays.
            outcome = super::signal_received(stop, outcome, "while the reports were written");
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
fn render_reports(out: &Path, agents: &[String], args: &OutputArgs, gate: &Gate) -> Result<(), String> {
    let results = StoredResults::load(out).map_err(|e| e.to_string())?;
    // The titles the runs recorded (their catalog, maybe --catalog), else the built-in catalog's.
    let titles = match results.run.sections.is_empty() {
        true => Catalog::embedded().map(|c| section_titles(&c)).unwrap_or_default(),
        false => SectionTitles(results.run.sections.clone()),
    };
    // How each wss:// run checked the certificate, in the header: a report made without checks says so.
    let notes = results.run.agents.iter().filter_map(|(agent, run)| run.tls.as_ref().map(|tls| tls.note(agent))).collect();
    let html = Html::new(out, results.agents(), titles.clone()).with_notes(notes).with_incomplete(IncompleteRun::of(&results));
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

/// Section and subsection titles of `catalog`.
fn section_titles(catalog: &Catalog) -> SectionTitles {
    let sections = catalog.sections.iter().cloned();
    let titles = sections.flat_map(|Section { id, title, subsections }| std::iter::once((id, title)).chain(subsections));
    SectionTitles(titles.collect())
}

/// Prints counts and every result that fails the run; returns how many do (the caller prints it).
/// `results`: (id, verdicts, recorded reason).
fn summarize(agent: &str, results: &[(&str, IndexEntry, Option<String>)], heading: &str, gate: &Gate) -> usize {
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
    let mut failed = 0;
    for (id, entry, record) in results {
        let (label, why) = match gate.status(agent, id, entry, record.as_deref()) {
            Status::Failed { why } if matches!(gate, Gate::Verdicts) => ("FAILED", why),
            Status::Failed { why } => ("UNEXPECTED", why),
            Status::Stale { why } => ("STALE", why),
            Status::Passed | Status::Expected { .. } => continue,
        };
        failed += 1;
        say!("  {label} {:<9} {}: {}", terminal_safe(id), entry.verdicts(), terminal_safe(&why));
    }
    failed
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
