//! `wsspec-run.json`, wsspec's own account of the runs that wrote a report folder, beside
//! Autobahn's `index.json`: per agent, the cases selected, how the run ended and why, how a
//! `wss://` run checked the certificate, wsspec's own errors and what the run's summary noted.
//! Every field added since the first version is optional, so older files still load.

use std::{collections::BTreeMap, io, path::Path};

use serde::{Deserialize, Serialize};

use crate::{
    fs::{read_regular, MAX_RECORD_BYTES},
    ReportError,
};

/// The name of wsspec's own account of the runs that wrote a folder.
pub const RUN_FILE: &str = "wsspec-run.json";

/// `wsspec-run.json`: agent → how its run went; and the section titles of the catalog the runs
/// loaded, so a re-rendered report shows the same ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunFile {
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
    /// For a `wss://` run: how the server's certificate was checked (absent over plain TCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RunTls>,
    /// What the run's summary said about how its verdicts were obtained, one line each: cases the
    /// target refused while others were in flight ran again alone, a target that refused
    /// connections intermittently. Absent when there is nothing to say (and in files written
    /// before wsspec recorded them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl RunFile {
    /// The lines a report's header shows about how each agent's run was made and went, `agent:
    /// line`, in agent order: how a `wss://` run checked the certificate ([`RunTls::note`]), then
    /// its [`notes`](AgentRun::notes). They may quote the target: a report escapes them.
    pub fn notes(&self) -> Vec<String> {
        let per_agent = self.agents.iter().map(|(agent, run)| {
            let notes = run.notes.iter().map(move |note| format!("{agent}: {note}"));
            run.tls.as_ref().map(|tls| tls.note(agent)).into_iter().chain(notes)
        });
        per_agent.flatten().collect()
    }
}

/// How a run over TLS checked the target's certificate, so that a report made with the checks off
/// (`--insecure`) says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTls {
    /// Whether the certificate was verified (false with `--insecure`).
    pub certificate_verified: bool,
    /// What it was verified against, in a sentence (the system's roots, a `--ca` file, nothing).
    pub trust: String,
}

impl RunTls {
    /// One line for a report's header about `agent`'s run: `agent: trust`, flagged when the
    /// certificate was not verified.
    pub fn note(&self, agent: &str) -> String {
        let flag = if self.certificate_verified { "" } else { "WARNING: " };
        format!("{flag}{agent}: {}", self.trust)
    }
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
            Self::TargetFailed => "stopped: the target was unreachable or stopped answering",
        }
    }
}

/// Reads `dir/wsspec-run.json`: `None` when there is none (a folder Autobahn wrote); an error when
/// it cannot be read, is refused (a link, a FIFO, over `fs::MAX_RECORD_BYTES`) or is malformed
/// (not JSON, or not the shape wsspec writes: `{}` lacks `agents`).
pub fn read_run_file(dir: &Path) -> Result<Option<RunFile>, ReportError> {
    let path = dir.join(RUN_FILE);
    let text = match read_regular(&path, MAX_RECORD_BYTES) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if crate::fs::is_refusal(&e) => return Err(ReportError::Refused { path, message: e.to_string() }),
        Err(e) => return Err(ReportError::read(&path, e)),
    };
    serde_json::from_slice(&text).map(Some).map_err(|e| ReportError::read(&path, format!("malformed: {e}")))
}
