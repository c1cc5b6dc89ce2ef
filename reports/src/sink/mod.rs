//! The one writer of a report folder, used by server mode, client mode and anything else that
//! records results: every result is written the moment it is known (its case file, then
//! `index.json`), each file through a temporary file and a rename, so a crash or an interrupt keeps
//! everything recorded so far and never leaves a half-written file.
//!
//! Beside Autobahn's `index.json`, whose schema is kept, the sink keeps `wsspec-run.json`
//! ([`RunFile`], in `run_file`): per agent, the cases the run selected, how the run ended, and the
//! cases wsspec itself could not run (its own faults, never the target's). A case that ends in wsspec's own error is left out of `index.json`, as
//! Autobahn leaves out a case with no result; its case file holds a [`CaseError`] instead of a
//! [`CaseRecord`]. `wsspec report` reads all of it back to tell a complete folder from one that is not.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use serde::{Deserialize, Serialize};

use live::hold_live_lock;
pub use live::folder_in_use;
pub use run_file::{read_run_file, AgentRun, RunFile, RunState, RunTls, RUN_FILE};

use crate::{
    autobahn::{case_report_file, to_compact_json, to_json, unique_agent_stem, Index},
    budget::CaseFilesBudget,
    fs::{read_regular, write_atomically_open, MAX_INDEX_BYTES},
    CaseRecord, ReportError,
};

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
/// serialized so the files on disk are never older than one written before. Several processes may
/// write one folder at once (runs with the same `--out`): every read-modify-write of `index.json`
/// and `wsspec-run.json` holds an advisory lock on [`LOCK_FILE`] and starts from the files on disk,
/// so each run keeps the others' agents.
pub struct Sink {
    dir: PathBuf,
    state: Mutex<State>,
    /// The lock file, open for the sink's lifetime (so taking the lock needs no new descriptor);
    /// locked only while `state` is.
    lock_file: File,
    /// The report folder itself, open with a shared `flock` for the sink's lifetime: while a run
    /// writes here, [`folder_in_use`] says so (several runs may share the folder; each holds it
    /// shared). `None` where the folder cannot be locked (not unix, a file system without flock).
    _live: Option<File>,
    /// Descriptors held in reserve (the lock file opened again): when a write finds every descriptor
    /// taken (cases in flight hold many), one is given up for it, so results are still recorded.
    reserve: Mutex<Vec<File>>,
}

/// How many descriptors a sink holds in reserve.
const RESERVE: usize = 2;

/// The file in a report folder whose `flock` serializes the writers of `index.json` and
/// `wsspec-run.json` across processes. Empty; left in place.
pub const LOCK_FILE: &str = ".wsspec.lock";

/// The longest a writer waits for another process's lock on the folder (60 s; a holder keeps it
/// only while it rewrites two files). Past it, the write fails naming the lock file.
pub const LOCK_WAIT: Duration = Duration::from_secs(60);

struct State {
    index: Index,
    run: RunFile,
    /// agent → the file stem of its case files in this folder (`autobahn::unique_agent_stem`).
    stems: BTreeMap<String, String>,
    /// agent → what its run's case files may still take on disk (begun with the agent's run).
    budgets: BTreeMap<String, CaseFilesBudget>,
    /// The identity of `index.json` and `wsspec-run.json` as last read or written: when the files on
    /// disk are still these, nobody else wrote them and the copies above are current.
    seen: (Option<FileId>, Option<FileId>),
}

/// What identifies a version of a file: every write replaces the file (a rename), so a new inode.
type FileId = (u64, u64, u64);

/// What became of a judged result handed to [`Sink::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Its case file and its `index.json` entry are written.
    Result,
    /// Its case file could not be written (out of descriptors, disk full): the case is recorded as
    /// wsspec's own error, with this text (the OS error), not as a result.
    Error(String),
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
    /// Opens `dir` for writing, creating it; fails before any case runs when it cannot be written,
    /// or its `index.json` or `wsspec-run.json` cannot be read or is malformed. Other agents'
    /// results already there are kept.
    pub fn open(dir: &Path) -> Result<Self, ReportError> {
        check_writable(dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = open_lock_file(&lock_path).map_err(|e| ReportError::write(&lock_path, e))?;
        let state = State { index: Index::new(), run: RunFile::default(), stems: BTreeMap::new(), budgets: BTreeMap::new(), seen: (None, None) };
        let reserve = (0..RESERVE).filter_map(|_| open_lock_file(&lock_path).ok()).collect();
        let live = hold_live_lock(dir);
        let sink = Self { dir: dir.to_path_buf(), state: Mutex::new(state), lock_file: lock, _live: live, reserve: Mutex::new(reserve) };
        sink.update(false, false, |_| ())?;
        Ok(sink)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the section titles of the catalog the run loaded.
    pub fn set_sections(&self, sections: BTreeMap<String, String>) -> Result<(), ReportError> {
        self.update(false, true, |state| state.run.sections.extend(sections))
    }

    /// Starts (or restarts) `agent`'s run over `selected` ids: its earlier results in this folder,
    /// their case files and pages are removed, so a re-run leaves nothing stale.
    pub fn begin_agent(&self, agent: &str, selected: Vec<String>) -> Result<(), ReportError> {
        let dir = self.dir.clone();
        self.update(true, true, |state| {
            // The stem is chosen before the agent's old entries go, so a re-run keeps its file names.
            let stem = state.stem(agent);
            state.index.remove(agent);
            state.budgets.insert(agent.to_string(), CaseFilesBudget::new(selected.len()));
            let run = AgentRun { selected, state: RunState::Running, stopped: None, errors: BTreeMap::new(), tls: None, notes: Vec::new() };
            state.run.agents.insert(agent.to_string(), run);
            remove_case_files(&dir, &stem)
        })?
    }

    /// Records one judged result: its case file, then its `index.json` entry. Sets the record's
    /// `reportfile` to the agent's case file in this folder. The record and the page a report
    /// renders of it take at most the share of the run's report budget the record reserves
    /// (`budget::CaseFilesBudget`, begun by [`begin_agent`](Self::begin_agent)); a record over it is
    /// cut to it first and says so in its `bounds`. A case file that cannot be written makes the
    /// case wsspec's own error ([`Recorded::Error`]); only a failure to write `index.json` or
    /// `wsspec-run.json` is an error.
    pub fn record(&self, record: &mut CaseRecord) -> Result<Recorded, ReportError> {
        let share = {
            let mut state = self.lock();
            record.reportfile = case_report_file(&state.stem(&record.agent), &record.id);
            let selected = state.run.agents.get(&record.agent).map_or(1, |run| run.selected.len());
            state.budgets.entry(record.agent.clone()).or_insert_with(|| CaseFilesBudget::new(selected)).reserve()
        };
        let path = self.dir.join(&record.reportfile);
        let (json, used) = fit::fitted_json(record, share);
        let written = self.write_file(&path, &json);
        if let Some(budget) = self.lock().budgets.get_mut(&record.agent) {
            budget.settle(share, if written.is_ok() { used } else { 0 });
        }
        if let Err(e) = written {
            let error = format!("cannot write its case file {}: {e}", path.display());
            self.error(&record.agent, &record.id, &record.title, &error)?;
            return Ok(Recorded::Error(error));
        }
        let entry = record.index_entry();
        self.update(true, false, |state| state.index.entry(record.agent.clone()).or_default().insert(record.id.clone(), entry))?;
        Ok(Recorded::Result)
    }

    /// Records a case wsspec could not run through its own fault: a [`CaseError`] case file (when it
    /// can be written) and an entry in `wsspec-run.json`; nothing in `index.json`.
    pub fn error(&self, agent: &str, id: &str, title: &str, error: &str) -> Result<(), ReportError> {
        let reportfile = case_report_file(&self.lock().stem(agent), id);
        let path = self.dir.join(&reportfile);
        let case = CaseError { agent: agent.into(), id: id.into(), title: title.into(), error: error.into(), reportfile };
        // Without its file the error is still recorded in wsspec-run.json, which reports read.
        let _ = self.write_file(&path, &to_compact_json(&case));
        self.update(true, true, |state| {
            if let Some(cases) = state.index.get_mut(agent) {
                cases.remove(id);
            }
            if let Some(run) = state.run.agents.get_mut(agent) {
                run.errors.insert(id.to_string(), error.to_string());
            }
        })
    }

    /// Records how `agent`'s run ended.
    pub fn end_agent(&self, agent: &str, end: RunState, stopped: Option<String>) -> Result<(), ReportError> {
        self.update(false, true, |state| {
            if let Some(run) = state.run.agents.get_mut(agent) {
                run.state = end;
                run.stopped = stopped;
            }
        })
    }

    /// Records how `agent`'s run (begun with [`begin_agent`](Self::begin_agent)) checks the
    /// target's certificate.
    pub fn set_tls(&self, agent: &str, tls: RunTls) -> Result<(), ReportError> {
        self.update(false, true, |state| {
            if let Some(run) = state.run.agents.get_mut(agent) {
                run.tls = Some(tls);
            }
        })
    }

    /// Records what `agent`'s run (begun with [`begin_agent`](Self::begin_agent)) said about how its
    /// verdicts were obtained ([`AgentRun::notes`]), so the reports rendered from the folder say it.
    pub fn set_notes(&self, agent: &str, notes: Vec<String>) -> Result<(), ReportError> {
        self.update(false, true, |state| {
            if let Some(run) = state.run.agents.get_mut(agent) {
                run.notes = notes;
            }
        })
    }

    /// Whether `agent` has begun a run through this sink (or an earlier one in this folder).
    pub fn has_agent(&self, agent: &str) -> bool {
        self.lock().run.agents.contains_key(agent)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data: every field is replaced whole.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One read-modify-write of the folder's shared files: under the folder lock, brings the copies
    /// up to date with what other processes wrote, applies `change`, and writes `index.json` and/or
    /// `wsspec-run.json` as asked.
    fn update<R>(&self, index: bool, run: bool, change: impl FnOnce(&mut State) -> R) -> Result<R, ReportError> {
        let mut state = self.lock();
        let lock_path = self.dir.join(LOCK_FILE);
        let _held = FolderLock::acquire(&self.lock_file).map_err(|e| ReportError::write(&lock_path, e))?;
        self.reload(&mut state)?;
        let out = change(&mut state);
        if index {
            state.seen.0 = Some(self.write(INDEX_FILE, &to_json(&state.index))?);
        }
        if run {
            state.seen.1 = Some(self.write(RUN_FILE, &to_json(&state.run))?);
        }
        Ok(out)
    }

    /// Re-reads whichever of `index.json` and `wsspec-run.json` changed since this sink last saw it.
    fn reload(&self, state: &mut State) -> Result<(), ReportError> {
        let index_path = self.dir.join(INDEX_FILE);
        let id = file_id(&index_path);
        if id != state.seen.0 || id.is_none() {
            state.index = match read_regular(&index_path, MAX_INDEX_BYTES) {
                Ok(text) => serde_json::from_slice(&text).map_err(|e| ReportError::read(&index_path, e))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Index::new(),
                Err(e) => return Err(ReportError::read(&index_path, e)),
            };
            state.seen.0 = id;
        }
        let id = file_id(&self.dir.join(RUN_FILE));
        if id != state.seen.1 || id.is_none() {
            state.run = read_run_file(&self.dir)?.unwrap_or_default();
            state.seen.1 = id;
        }
        Ok(())
    }

    /// Writes one shared file and returns the identity of the version written.
    fn write(&self, name: &str, data: &[u8]) -> Result<FileId, ReportError> {
        let path = self.dir.join(name);
        self.write_file(&path, data).map_err(|e| ReportError::write(&path, e))?;
        file_id(&path).ok_or_else(|| ReportError::read(&path, "vanished as it was written"))
    }

    /// `write_atomically`, giving up a reserved descriptor when every one is taken (EMFILE, ENFILE):
    /// the file written then takes its place in the reserve, so the slot is never given back to
    /// the cases in flight.
    fn write_file(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        let mut reserve = self.reserve.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            match write_atomically_open(path, data) {
                Err(e) if matches!(e.raw_os_error(), Some(23 | 24)) && reserve.pop().is_some() => continue,
                Err(e) => return Err(e),
                Ok(file) => {
                    if reserve.len() < RESERVE {
                        reserve.push(file);
                    }
                    return Ok(());
                }
            }
        }
    }
}

const INDEX_FILE: &str = "index.json";

/// Removes the `<stem>_case_*.json` and `.html` files of the agent whose file stem is `stem`.
fn remove_case_files(dir: &Path, stem: &str) -> Result<(), ReportError> {
    let prefix = format!("{stem}_case_");
    let entries = fs::read_dir(dir).map_err(|e| ReportError::read(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && (name.ends_with(".json") || name.ends_with(".html")) {
            fs::remove_file(entry.path()).map_err(|e| ReportError::write(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// The identity of the file at `path` (not following a link), if there is one.
fn file_id(path: &Path) -> Option<FileId> {
    let meta = fs::symlink_metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino(), meta.len()))
    }
    #[cfg(not(unix))]
    {
        let modified = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some((modified.as_secs(), u64::from(modified.subsec_nanos()), meta.len()))
    }
}

/// Opens (creating) the lock file, never through a link.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    options.open(path)
}

/// An exclusive `flock` on the lock file, released when dropped.
struct FolderLock<'a>(#[cfg_attr(not(unix), allow(dead_code))] &'a File);

impl<'a> FolderLock<'a> {
    /// Takes the lock, waiting at most [`LOCK_WAIT`] for another process to release it.
    fn acquire(file: &'a File) -> io::Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            let deadline = std::time::Instant::now() + LOCK_WAIT;
            // SAFETY: flock on a descriptor this File owns; no memory is involved.
            while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let error = io::Error::last_os_error();
                if error.raw_os_error() != Some(libc::EWOULDBLOCK) && error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
                if std::time::Instant::now() >= deadline {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, format!("another process held the lock for over {} s", LOCK_WAIT.as_secs())));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        Ok(Self(file))
    }
}

#[cfg(unix)]
impl Drop for FolderLock<'_> {
    fn drop(&mut self) {
        use std::os::unix::io::AsRawFd;
        // SAFETY: as in `acquire`.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
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

mod fit;
mod live;
mod run_file;
#[cfg(test)]
mod tests;
