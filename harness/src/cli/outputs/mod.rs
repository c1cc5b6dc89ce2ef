//! What happens after cases ran: the terminal summary, the reports rendered from the stored
//! results (HTML always, JUnit when asked), the expectations gate and the exit code. Shared by every
//! command that runs cases, and by `wsspec report`.
//!
//! A command calls `check` and `open_sink` before running anything, `finish_agent` after each agent
//! (the summary), and `finish_run` once at the end, which renders the reports of every agent once
//! (rendering per agent cost a whole re-render each: 98 s more for 100 one-case agents). An
//! interrupted run renders too; `wsspec report` renders any folder again.
//!
//! This module holds the options and what is checked or prepared before a run; the rest is in
//! [`gate`] (what fails the run), [`summary`] (an agent's summary), [`finish`] (the run's end) and
//! [`stored`] (`wsspec report` and `wsspec diff` on folders already written).

mod finish;
mod gate;
mod stored;
mod summary;

use std::path::{Path, PathBuf};

use wsspec::catalog::{Catalog, Section};
use wsspec_reports::{html, junit, sink::Sink, SectionTitles};

use super::progress::terminal_safe;
pub use finish::finish_run;
use gate::Gate;
pub use stored::{diff_stored, report_stored};
pub use summary::{abbreviate, finish_agent, AgentResults};

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

/// Section and subsection titles of `catalog`.
pub(super) fn section_titles(catalog: &Catalog) -> SectionTitles {
    let sections = catalog.sections.iter().cloned();
    let titles = sections.flat_map(|Section { id, title, subsections }| std::iter::once((id, title)).chain(subsections));
    SectionTitles(titles.collect())
}
