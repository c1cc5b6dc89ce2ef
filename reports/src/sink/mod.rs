//! The one writer of a report folder, used by server mode, client mode and anything else that
//! records results: every result is written the moment it is known (its case file, then
//! `index.json`), each file through a temporary file and a rename, so a crash or an interrupt keeps
//! everything recorded so far and never leaves a half-written file.
//!
//! Beside Autobahn's `index.json`, whose schema is kept, the sink keeps `wsspec-run.json`: per agent,
//! the cases the run selected, how the run ended, and the cases wsspec itself could not run (its own
//! faults, never the target's). A case that ends in wsspec's own error is left out of `index.json`, as
//! Autobahn leaves out a case with no result; its case file holds a [`CaseError`] instead of a
//! [`CaseRecord`]. `wsspec report` reads all of it back to tell a complete folder from one that is not.

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};

use crate::{
    autobahn::{case_report_file, to_json, unique_agent_stem, Index},
    fs::{read_regular, write_atomically, MAX_INDEX_BYTES, MAX_RECORD_BYTES},
    record_budget, CaseRecord, ReportError,
};

/// The name of wsspec's own account of the runs that wrote a folder.
pub const RUN_FILE: &str = "wsspec-run.json";

/// `wsspec-run.json`: agent → how its run went; and the section titles of the catalog the runs
/// loaded, so a re-rendered report shows the same ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunFile {
    #[serde(default)]
    pub agents: BTreeMap<String, AgentRun>,
    /// Section or subsection id → title.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
}

/// One agent's run as the folder records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRun {
    /// The case ids selected for this agent (after every exclusion), in catalog order.
    pub selected: Vec<String>,
    pub state: RunState,
    /// Why the run stopped early (an interrupt, a target that stopped answering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Cases wsspec could not run through its own fault: id → what went wrong.
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
}

/// How an agent's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// Still running, or ended by a crash before it could say otherwise.
    Running,
    /// Every selected case was given its chance.
    Complete,
    /// Stopped by a signal (SIGINT, SIGTERM) before every case ran.
    Interrupted,
    /// Stopped because the target could not be reached or stopped opening WebSockets.
    TargetFailed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "never finished (wsspec was killed or crashed)",
            Self::Complete => "complete",
            Self::Interrupted => "interrupted",
            Self::TargetFailed => "stopped: the target stopped answering",
        }
    }
}

/// The case file of a case wsspec could not run through its own fault (a panic, its own time bound,
/// a local I/O error). Not a verdict about the target.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseError {
    pub agent: String,
    pub id: String,
    pub title: String,
    /// What went wrong inside wsspec.
    pub error: String,
    pub reportfile: String,
}

/// Writes one report folder. Shared by every task of a run (`&self` everywhere); writes are
/// serialized so the files on disk are never older than one written before.
pub struct Sink {
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    index: Index,
    run: RunFile,
    /// agent → the file stem of its case files in this folder (`autobahn::unique_agent_stem`).
    stems: BTreeMap<String, String>,
}

impl State {
    /// `agent`'s file stem: the one it has, else one no other agent of the folder uses.
    fn stem(&mut self, agent: &str) -> String {
        if let Some(stem) = self.stems.get(agent) {
            return stem.clone();
        }
        let stem = unique_agent_stem(agent, &self.index);
        self.stems.insert(agent.to_string(), stem.clone());
        stem
    }
}

impl Sink {
    /// Opens `dir` for writing, creating it; fails before any case runs when it cannot be written
    /// or its `index.json` cannot be read. Other agents' results already there are kept.
    pub fn open(dir: &Path) -> Result<Self, ReportError> {
        check_writable(dir)?;
        let index_path = dir.join("index.json");
        let index = match read_regular(&index_path, MAX_INDEX_BYTES) {
            Ok(text) => serde_json::from_slice(&text).map_err(|e| ReportError::read(&index_path, e))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Index::new(),
            Err(e) => return Err(ReportError::read(&index_path, e)),
        };
        let run = read_run_file(dir).unwrap_or_default();
        Ok(Self { dir: dir.to_path_buf(), state: Mutex::new(State { index, run, stems: BTreeMap::new() }) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the section titles of the catalog the run loaded.
    pub fn set_sections(&self, sections: BTreeMap<String, String>) -> Result<(), ReportError> {
        let mut state = self.lock();
        state.run.sections.extend(sections);
        self.write_run(&state)
    }

    /// Starts (or restarts) `agent`'s run over `selected` ids: its earlier results in this folder,
    /// their case files and pages are removed, so a re-run leaves nothing stale.
    pub fn begin_agent(&self, agent: &str, selected: Vec<String>) -> Result<(), ReportError> {
        let mut state = self.lock();
        // The stem is chosen before the agent's old entries go, so a re-run keeps its file names.
        let stem = state.stem(agent);
        state.index.remove(agent);
        state.run.agents.insert(agent.to_string(), AgentRun { selected, state: RunState::Running, stopped: None, errors: BTreeMap::new() });
        self.remove_case_files(&stem)?;
        self.write_index(&state)?;
        self.write_run(&state)
    }

    /// Records one judged result: its case file, then its `index.json` entry. Sets the record's
    /// `reportfile` to the agent's case file in this folder; a record over its share of the run's
    /// budget (`crate::record_budget` of the cases selected for the agent) is cut to it first and
    /// says so in its `bounds`.
    pub fn record(&self, record: &mut CaseRecord) -> Result<(), ReportError> {
        let budget = {
            let mut state = self.lock();
            record.reportfile = case_report_file(&state.stem(&record.agent), &record.id);
            record_budget(state.run.agents.get(&record.agent).map_or(1, |run| run.selected.len()))
        };
        let path = self.dir.join(&record.reportfile);
        write_atomically(&path, &fit::fitted_json(record, budget)).map_err(|e| ReportError::write(&path, e))?;
        let mut state = self.lock();
        state.index.entry(record.agent.clone()).or_default().insert(record.id.clone(), record.index_entry());
        self.write_index(&state)
    }

    /// Records a case wsspec could not run through its own fault: a [`CaseError`] case file and an
    /// entry in `wsspec-run.json`; nothing in `index.json`.
    pub fn error(&self, agent: &str, id: &str, title: &str, error: &str) -> Result<(), ReportError> {
        let reportfile = case_report_file(&self.lock().stem(agent), id);
        let path = self.dir.join(&reportfile);
        let case = CaseError { agent: agent.into(), id: id.into(), title: title.into(), error: error.into(), reportfile };
        write_atomically(&path, &to_json(&case)).map_err(|e| ReportError::write(&path, e))?;
        let mut state = self.lock();
        if let Some(cases) = state.index.get_mut(agent) {
            cases.remove(id);
        }
        if let Some(run) = state.run.agents.get_mut(agent) {
            run.errors.insert(id.to_string(), error.to_string());
        }
        self.write_index(&state)?;
        self.write_run(&state)
    }

    /// Records how `agent`'s run ended.
    pub fn end_agent(&self, agent: &str, end: RunState, stopped: Option<String>) -> Result<(), ReportError> {
        let mut state = self.lock();
        if let Some(run) = state.run.agents.get_mut(agent) {
            run.state = end;
            run.stopped = stopped;
        }
        self.write_run(&state)
    }

    /// Whether `agent` has begun a run through this sink (or an earlier one in this folder).
    pub fn has_agent(&self, agent: &str) -> bool {
        self.lock().run.agents.contains_key(agent)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data: every field is replaced whole.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_index(&self, state: &State) -> Result<(), ReportError> {
        let path = self.dir.join("index.json");
        write_atomically(&path, &to_json(&state.index)).map_err(|e| ReportError::write(&path, e))
    }

    fn write_run(&self, state: &State) -> Result<(), ReportError> {
        let path = self.dir.join(RUN_FILE);
        write_atomically(&path, &to_json(&state.run)).map_err(|e| ReportError::write(&path, e))
    }

    /// Removes the `<stem>_case_*.json` and `.html` files of the agent whose file stem is `stem`.
    fn remove_case_files(&self, stem: &str) -> Result<(), ReportError> {
        let prefix = format!("{stem}_case_");
        let entries = fs::read_dir(&self.dir).map_err(|e| ReportError::read(&self.dir, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && (name.ends_with(".json") || name.ends_with(".html")) {
                fs::remove_file(entry.path()).map_err(|e| ReportError::write(&entry.path(), e))?;
            }
        }
        Ok(())
    }
}

/// Creates `dir` and checks that a file can be written there, so an unwritable report folder is
/// refused before anything runs.
pub fn check_writable(dir: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(dir).map_err(|e| ReportError::write(dir, e))?;
    let probe = dir.join(format!(".wsspec-probe-{}", std::process::id()));
    fs::write(&probe, b"").map_err(|e| ReportError::write(dir, e))?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// Reads `dir/wsspec-run.json`, if there is one that parses.
pub fn read_run_file(dir: &Path) -> Option<RunFile> {
    serde_json::from_slice(&read_regular(&dir.join(RUN_FILE), MAX_RECORD_BYTES).ok()?).ok()
}

mod fit;
#[cfg(test)]
mod tests;
