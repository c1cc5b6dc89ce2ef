//! What the report says of runs that did not complete: the banner at the top of `index.html`, and
//! the page `index.html` holds while a run is under way.

use std::{io, path::Path, time::SystemTime};

use serde::Serialize;
use tera::Context;

use super::templates;
use crate::{fs::write_atomically, iso_utc, ReportError};

/// An agent's run that did not complete (interrupted, its target gone, killed, still running), as
/// the top of `index.html` says it: every text in it comes from the folder, so it is escaped.
#[derive(Debug, Clone, Serialize)]
pub struct IncompleteRun {
    pub agent: String,
    /// How and why it stopped (`interrupted: SIGINT received`, what the target answered).
    pub why: String,
    /// How many cases were selected for it.
    pub selected: usize,
    /// How many of them were not run: counted as `Not run` cells come (see [`Output::unrun`]).
    pub not_run: usize,
}

impl IncompleteRun {
    /// Every run of `results` that did not complete (`sink::RunState` other than complete), with
    /// why, in agent order.
    pub fn of(results: &crate::StoredResults) -> Vec<Self> {
        let runs = results.run.agents.iter().filter(|(_, run)| run.state != crate::sink::RunState::Complete);
        runs.map(|(agent, run)| {
            let state = results.state_text(run.state);
            let why = match &run.stopped {
                Some(stopped) if stopped.starts_with(state) => stopped.clone(),
                Some(stopped) => format!("{state}: {stopped}"),
                None => state.to_string(),
            };
            Self { agent: agent.clone(), why, selected: run.selected.len(), not_run: 0 }
        })
        .collect()
    }
}

/// The page `index.html` holds while a run is under way: the report of the run has not been written
/// yet, and if wsspec is killed it stays, so the folder never shows an earlier run's report as this
/// one's. Replaced atomically by the report when the run ends.
pub fn write_unfinished(dir: &Path) -> Result<(), ReportError> {
    let path = dir.join("index.html");
    let page = UnfinishedPage { started: iso_utc(SystemTime::now()) };
    let failed = |e: tera::Error| ReportError::write(&path, io::Error::other(format!("template unfinished.html: {e}")));
    let html = templates::parsed().render("unfinished.html", &Context::from_serialize(&page).map_err(failed)?).map_err(failed)?;
    write_atomically(&path, html.as_bytes()).map_err(|e| ReportError::write(&path, e))
}

#[derive(Serialize)]
struct UnfinishedPage {
    started: String,
}
