//! The HTML report: `index.html` (counts, and a matrix of cases × agents with filters) and one page
//! per agent and case, named as Autobahn names them. Self-contained: CSS and JS are inline and
//! nothing is loaded from the network. Every text is escaped by tera's autoescape; file names come
//! from `index.json`'s `reportfile` when it is a plain file name, else `autobahn::agent_file_stem`, so
//! a hostile agent name stays inside the folder.
//!
//! This module writes the pages; what the index shows is gathered in `index`, what a case page
//! shows is computed in `view`, and the templates and their escape are in `templates`.

mod incomplete;
mod index;
mod templates;
mod view;

use std::{
    io,
    path::{Path, PathBuf},
};

use serde::Serialize;
use tera::Context;

use crate::{
    autobahn::report_page_name, fs::write_atomically, CaseRecord, CaseResult, Output, ReportError, SectionTitles, Status, Unrun,
};
use index::{AgentSummary, PendingRow};
pub use incomplete::{write_unfinished, IncompleteRun};
use view::CasePage;

/// Characters of a reason `index.html` shows on hover over a cell: the index has a row per case,
/// so it never repeats more of what a target made wsspec write (the page has the whole reason).
pub const TIP_CHARS: usize = 64;

/// The bytes of the page `record` gets in a report rendered without expectations (a failing result's
/// banner repeats its reason), so the sink can bound a case's page before it writes the record.
/// With expectations a banner may say a little more (at most `view::BANNER_CHARS` characters).
pub(crate) fn case_page_bytes(record: &CaseRecord) -> usize {
    let entry = record.index_entry();
    let status = Status::of_verdicts(&entry, Some(record.reason()));
    let page = CasePage::new(&record.agent, &record.id, &entry, Some(record), &status, String::new());
    Context::from_serialize(&page)
        .and_then(|context| templates::parsed().render("case.html", &context))
        .map_or(0, |html| html.len())
}

/// Writes the HTML report into a folder as results come.
pub struct Html {
    dir: PathBuf,
    sections: SectionTitles,
    agents: Vec<AgentSummary>,
    rows: Vec<PendingRow>,
    /// Lines the index page's header shows about how the runs were made and went (certificate
    /// checks off, cases run again after refusals).
    notes: Vec<String>,
    /// Runs that did not complete, said at the top of the index page.
    incomplete: Vec<IncompleteRun>,
}

/// The report pages' style sheet, written into the report folder beside them.
const STYLE_SHEET: &str = "wsspec.css";

impl Html {
    /// A report of `agents` (every agent of the results, in index order) written into `dir`.
    pub fn new(dir: &Path, agents: impl IntoIterator<Item = String>, sections: SectionTitles) -> Self {
        let agents = agents.into_iter().map(AgentSummary::new).collect();
        Self { dir: dir.to_path_buf(), sections, agents, rows: Vec::new(), notes: Vec::new(), incomplete: Vec::new() }
    }

    /// Says at the top of the index page which runs did not complete, why, and how many of their
    /// cases were not run ([`IncompleteRun::of`]).
    pub fn with_incomplete(mut self, runs: Vec<IncompleteRun>) -> Self {
        self.incomplete = runs;
        self
    }

    /// Adds lines to the index page's header about how the runs were made and went
    /// ([`RunFile::notes`](crate::sink::RunFile::notes)), e.g. that a server's certificate was not
    /// verified, or that the target refused connections intermittently. Escaped like every text.
    pub fn with_notes(mut self, notes: Vec<String>) -> Self {
        self.notes = notes;
        self
    }

    fn render(&self, template: &str, page: &impl Serialize, file: &str) -> Result<(), ReportError> {
        let path = self.dir.join(file);
        let failed = |e: tera::Error| ReportError::write(&path, io::Error::other(format!("template {template}: {e}")));
        let context = Context::from_serialize(page).map_err(failed)?;
        let html = templates::parsed().render(template, &context).map_err(failed)?;
        write_atomically(&path, html.as_bytes()).map_err(|e| ReportError::write(&path, e))
    }
}

impl Output for Html {
    fn add(&mut self, result: &CaseResult<'_>) -> Result<(), ReportError> {
        let CaseResult { agent, id, entry, record, status } = *result;
        let page = report_page_name(agent, id, &entry.reportfile);
        let unreadable = if record.is_none() { format!("no readable case record for {agent} / {id}") } else { String::new() };
        self.render("case.html", &CasePage::new(agent, id, entry, record, status, unreadable), &page)?;
        self.add_cell(result, page);
        Ok(())
    }

    /// A selected case without a result: a cell that says why (wsspec's own error, or not run),
    /// counted as Missing and shown by the failing-only filter, since it keeps the run from passing.
    fn unrun(&mut self, agent: &str, id: &str, why: Unrun<'_>) -> Result<(), ReportError> {
        self.unrun_cell(agent, id, why);
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ReportError> {
        // One style sheet beside the pages, not a copy in each of them: 3.5 KB a case page, a
        // fifth of a whole-catalog report folder.
        let css = self.dir.join(STYLE_SHEET);
        write_atomically(&css, include_str!("templates/style.css").as_bytes()).map_err(|e| ReportError::write(&css, e))?;
        self.render_index()
    }
}

#[cfg(test)]
mod tests;
