//! One interface, several outputs (ripgrep's printer model): stored results are read once and each
//! result is handed to every output (HTML, JUnit) with its status.

use std::{
    collections::BTreeMap,
    fmt, io,
    path::{Path, PathBuf},
};

use crate::{sink::RunState, CaseRecord, IndexEntry, Status, StoredResults};

/// One result of one agent, as an output sees it.
pub struct CaseResult<'a> {
    pub agent: &'a str,
    pub id: &'a str,
    pub entry: &'a IndexEntry,
    /// `None` when the per-case file is missing or unreadable: outputs show the verdicts alone.
    pub record: Option<&'a CaseRecord>,
    pub status: &'a Status,
}

/// A selected case with no result, and why.
#[derive(Debug, Clone, Copy)]
pub enum Unrun<'a> {
    /// wsspec could not run it through its own fault (not a verdict about the target).
    Error(&'a str),
    /// The run stopped before it (an interrupt), or has not reached it yet (still running, or
    /// killed).
    NotRun(&'a str),
    /// Not run because the target could not be reached or stopped opening WebSockets (the reason):
    /// the target's failure, not wsspec's.
    TargetFailed(&'a str),
    /// The run completed without a result for it (a client that never ran it): a failure.
    Missing,
}

/// A report format.
pub trait Output {
    /// Takes results in catalog order, each case's agents in name order.
    fn add(&mut self, result: &CaseResult<'_>) -> Result<(), ReportError>;
    /// Takes a selected case without a result, in the same order as `add`.
    fn unrun(&mut self, _agent: &str, _id: &str, _why: Unrun<'_>) -> Result<(), ReportError> {
        Ok(())
    }
    /// Writes what is left.
    fn finish(self: Box<Self>) -> Result<(), ReportError>;
}

/// Why a report could not be read or written.
#[derive(Debug)]
pub enum ReportError {
    Read { path: PathBuf, message: String },
    /// A file wsspec will not read: a link, a FIFO, a device, too big, or named outside the folder
    /// (see `fs`). Unlike a missing record, this stops the report (exit 2).
    Refused { path: PathBuf, message: String },
    Write { path: PathBuf, source: io::Error },
}

impl ReportError {
    pub fn read(path: &Path, error: impl fmt::Display) -> Self {
        Self::Read { path: path.to_path_buf(), message: error.to_string() }
    }

    pub fn write(path: &Path, source: io::Error) -> Self {
        Self::Write { path: path.to_path_buf(), source }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, message } => write!(f, "{}: {message}", path.display()),
            Self::Refused { path, message } => write!(f, "{}: refused: {message}", path.display()),
            Self::Write { path, source } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for ReportError {}

/// Feeds every stored result to every output. `status` decides what each result means for the run.
/// Returns the per-case records that could not be read; their results were shown from `index.json`
/// alone. A record `StoredResults::record` refuses (a link, a FIFO, …) is an error.
pub fn render(
    results: &StoredResults,
    mut status: impl FnMut(&str, &str, &IndexEntry, Option<&CaseRecord>) -> Status,
    mut outputs: Vec<Box<dyn Output>>,
) -> Result<Vec<ReportError>, ReportError> {
    let mut unreadable = Vec::new();
    let mut ids = results.case_ids();
    ids.extend(results.run.agents.values().flat_map(|run| run.selected.iter().map(String::as_str)));
    ids.sort_by_key(|id| crate::case_order(id));
    ids.dedup();
    let agents = results.agents();
    for id in ids {
        for agent in &agents {
            let run = results.run.agents.get(agent);
            let Some(entry) = results.index.get(agent).and_then(|cases| cases.get(id)) else {
                let why = match run {
                    Some(run) if run.errors.contains_key(id) => Unrun::Error(&run.errors[id]),
                    Some(run) if run.selected.iter().any(|s| s == id) && run.state == RunState::Complete => Unrun::Missing,
                    Some(run) if run.selected.iter().any(|s| s == id) && run.state == RunState::TargetFailed => {
                        Unrun::TargetFailed(run.stopped.as_deref().unwrap_or_else(|| results.state_text(run.state)))
                    }
                    Some(run) if run.selected.iter().any(|s| s == id) => {
                        Unrun::NotRun(run.stopped.as_deref().unwrap_or_else(|| results.state_text(run.state)))
                    }
                    _ => continue,
                };
                for output in &mut outputs {
                    output.unrun(agent, id, why)?;
                }
                continue;
            };
            let record = match results.record(agent, id) {
                Ok(record) => Some(record),
                Err(refused @ ReportError::Refused { .. }) => return Err(refused),
                Err(error) => {
                    unreadable.push(error);
                    None
                }
            };
            let status = status(agent, id, entry, record.as_ref());
            let result = CaseResult { agent, id, entry, record: record.as_ref(), status: &status };
            for output in &mut outputs {
                output.add(&result)?;
            }
        }
    }
    for output in outputs {
        output.finish()?;
    }
    Ok(unreadable)
}

/// Titles of sections and subsections (`"6"` → "UTF-8 Handling", `"6.4"` → …), from the catalog
/// the caller knows; the reports crate does not load catalogs.
#[derive(Debug, Clone, Default)]
pub struct SectionTitles(pub BTreeMap<String, String>);

impl SectionTitles {
    pub fn title(&self, id: &str) -> &str {
        self.0.get(id).map_or("", String::as_str)
    }
}

/// The section of a case id: `6` for 6.4.3.
pub fn section_of(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// The subsection of a three-part case id: `6.4` for 6.4.3; none for 2.10.
pub fn subsection_of(id: &str) -> Option<&str> {
    let mut dots = id.match_indices('.').map(|(i, _)| i);
    let second = dots.nth(1)?;
    Some(&id[..second])
}
