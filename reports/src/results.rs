//! Results as a run left them on disk: `index.json` and the per-case records beside it. Every report
//! is rendered from these, never by running anything again.

use std::{
    io,
    path::{Path, PathBuf},
};

use crate::{
    autobahn::{agent_file_stem, case_report_file, report_file_name, stored_file_stem, Index},
    fs::{is_refusal, read_regular, MAX_INDEX_BYTES, MAX_RECORD_BYTES},
    sink::{folder_in_use, read_run_file, RunFile, RunState},
    CaseRecord, IndexEntry, ReportError,
};

/// A report folder's results, possibly of several agents.
#[derive(Debug, Clone)]
pub struct StoredResults {
    /// Where the per-case records are.
    pub dir: PathBuf,
    pub index: Index,
    /// wsspec's account of the runs (`wsspec-run.json`); empty for a folder Autobahn wrote.
    pub run: RunFile,
    /// Whether the folder has a `wsspec-run.json`; without one (a folder Autobahn wrote) nothing
    /// tells whether its runs finished.
    pub has_run_file: bool,
    /// Whether a wsspec process is writing to the folder as it is read (it holds the folder's
    /// live lock, see [`sink::folder_in_use`](crate::sink::folder_in_use)): a run recorded as
    /// running is then still running, not killed.
    pub live: bool,
}

impl StoredResults {
    /// Reads `path`, a report folder or its `index.json`. The index must be a regular file (not a
    /// link, FIFO or device) of at most `fs::MAX_INDEX_BYTES`; anything else is `ReportError::Refused`.
    /// A `wsspec-run.json` that is there but malformed is an error too (see `sink::read_run_file`).
    pub fn load(path: &Path) -> Result<Self, ReportError> {
        if !path.exists() {
            return Err(ReportError::read(path, "no such report folder or index.json"));
        }
        let (dir, file) = if path.is_dir() {
            (path.to_path_buf(), path.join("index.json"))
        } else {
            (path.parent().unwrap_or(Path::new("")).to_path_buf(), path.to_path_buf())
        };
        let text = read_regular(&file, MAX_INDEX_BYTES).map_err(|e| read_error(&file, e))?;
        let index = serde_json::from_slice(&text).map_err(|e| ReportError::read(&file, e))?;
        let run = read_run_file(&dir)?;
        let live = folder_in_use(&dir);
        Ok(Self { dir, index, has_run_file: run.is_some(), run: run.unwrap_or_default(), live })
    }

    /// The record of one result, from the file `index.json`'s `reportfile` names (see
    /// `autobahn::stored_file_stem`). A `reportfile` that leaves the folder, and a record that is a
    /// link, a FIFO, a device or over `fs::MAX_RECORD_BYTES`, is `ReportError::Refused`.
    pub fn record(&self, agent: &str, id: &str) -> Result<CaseRecord, ReportError> {
        let reportfile = self.index.get(agent).and_then(|cases| cases.get(id)).map_or("", |entry| entry.reportfile.as_str());
        let name = stored_file_stem(agent, id, reportfile)
            .map_err(|message| ReportError::Refused { path: self.dir.join("index.json"), message })?
            + ".json";
        let path = self.dir.join(name);
        let text = read_regular(&path, MAX_RECORD_BYTES).map_err(|e| read_error(&path, e))?;
        serde_json::from_slice(&text).map_err(|e| ReportError::read(&path, e))
    }

    /// How a run in `state` ended, as reports say it: a run recorded as running is "still running"
    /// while a wsspec process writes to the folder, else it was killed or crashed.
    pub fn state_text(&self, state: RunState) -> &'static str {
        match state {
            RunState::Running if self.live => "still running (another wsspec process is writing to this folder)",
            state => state.as_str(),
        }
    }

    /// Every result in `index.json`: (agent, case id, verdicts), by agent and then by id.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str, &IndexEntry)> {
        self.index.iter().flat_map(|(agent, cases)| cases.iter().map(move |(id, entry)| (agent.as_str(), id.as_str(), entry)))
    }

    /// Every case id any agent has a result for, or wsspec's own error, in catalog order.
    pub fn case_ids(&self) -> Vec<&str> {
        let results = self.index.values().flat_map(|cases| cases.keys());
        let errors = self.run.agents.values().flat_map(|run| run.errors.keys());
        let mut ids: Vec<&str> = results.chain(errors).map(String::as_str).collect();
        ids.sort_by_key(|id| case_order(id));
        ids.dedup();
        ids
    }

    /// Every agent with a result or a recorded run, in name order.
    pub fn agents(&self) -> Vec<String> {
        let mut agents: Vec<String> = self.index.keys().chain(self.run.agents.keys()).cloned().collect();
        agents.sort();
        agents.dedup();
        agents
    }

    /// What keeps this folder from being a complete record of its runs, one line each: a run that
    /// was interrupted or never finished, selected cases without a result, cases wsspec itself
    /// could not run, results without a case file, case files whose verdicts are not those of their
    /// `index.json` entry, and case files neither `index.json` nor `wsspec-run.json` accounts for
    /// (whatever agent they name: a run whose account was lost leaves such orphans).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.unfinished();
        problems.extend(self.inconsistencies());
        problems
    }

    /// The part of [`problems`](Self::problems) about the runs themselves (what `wsspec diff`
    /// checks, as it reads `index.json` alone): a run that was interrupted or never finished,
    /// selected cases without a result, cases wsspec itself could not run.
    pub fn unfinished(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (agent, run) in &self.run.agents {
            let results = self.index.get(agent);
            let has = |id: &String| results.is_some_and(|r| r.contains_key(id));
            let ran = run.selected.iter().filter(|id| has(id)).count();
            if run.state != RunState::Complete {
                let why = run.stopped.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                problems.push(format!("{agent}: the run is {}{why}: {ran} of {} cases ran", self.state_text(run.state), run.selected.len()));
            }
            let missing: Vec<&str> =
                run.selected.iter().filter(|id| !has(id) && !run.errors.contains_key(*id)).map(String::as_str).collect();
            if !missing.is_empty() {
                let cases = if missing.len() == 1 { "1 selected case has".to_string() } else { format!("{} selected cases have", missing.len()) };
                problems.push(format!("{agent}: {cases} no result: {}", abbreviate(&missing)));
            }
            for (id, error) in &run.errors {
                problems.push(format!("{agent}: {id} was not run through wsspec's own fault: {error}"));
            }
        }
        problems
    }

    /// Case files and `index.json` that disagree: a listed file missing, verdicts that differ, and
    /// `*_case_*.json` files nothing accounts for.
    fn inconsistencies(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut listed: Vec<String> = Vec::new();
        for (agent, cases) in &self.index {
            for (id, entry) in cases {
                let file = stored_file_stem(agent, id, &entry.reportfile).map_or_else(|_| report_file_name(agent, id), |stem| format!("{stem}.json"));
                if !self.dir.join(&file).is_file() {
                    problems.push(format!("{agent}: {id} is in index.json but its case file {file} is missing"));
                } else if let Ok(record) = self.record(agent, id) {
                    if (record.behavior, record.behavior_close) != (entry.behavior, entry.behavior_close) {
                        problems.push(format!(
                            "{agent}: {id}: its case file {file} says {} / {} but index.json says {} / {}",
                            record.behavior.as_str(),
                            record.behavior_close.as_str(),
                            entry.behavior.as_str(),
                            entry.behavior_close.as_str()
                        ));
                    }
                }
                listed.push(file);
            }
        }
        // Every agent's file stem, for the errors' case files: Autobahn's, or the one its records use.
        let mut stems: Vec<String> = self.run.agents.keys().chain(self.index.keys()).map(|a| agent_file_stem(a)).collect();
        stems.extend(listed.iter().filter_map(|file| file.rsplit_once("_case_").map(|(stem, _)| stem.to_string())));
        let error_file = |name: &str| {
            self.run.agents.values().any(|run| {
                run.errors.keys().any(|id| stems.iter().any(|stem| name == case_report_file(stem, id)))
            })
        };
        let mut unlisted: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        unlisted.retain(|name| {
            name.ends_with(".json")
                && name.contains("_case_")
                && !name.starts_with('.')
                && !listed.contains(name)
                && !error_file(name)
        });
        unlisted.sort();
        if !unlisted.is_empty() {
            let names: Vec<&str> = unlisted.iter().map(String::as_str).collect();
            problems.push(format!("{} case files are not in index.json: {}", unlisted.len(), abbreviate(&names)));
        }
        problems
    }
}

fn abbreviate(items: &[&str]) -> String {
    let more = if items.len() > 10 { format!(" and {} more", items.len() - 10) } else { String::new() };
    format!("{}{more}", items[..items.len().min(10)].join(", "))
}

fn read_error(path: &Path, error: io::Error) -> ReportError {
    if is_refusal(&error) {
        ReportError::Refused { path: path.to_path_buf(), message: error.to_string() }
    } else {
        ReportError::read(path, error)
    }
}

/// Sort key of a case id: numerically by part, so 2.10 follows 2.9 and 10.1.1 follows 9.8.6.
pub fn case_order(id: &str) -> Vec<u32> {
    id.split('.').map(|p| p.parse().unwrap_or(u32::MAX)).collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn ids_sort_by_number() {
        let mut ids = vec!["10.1.1", "2.10", "2.9", "1.1.1", "9.8.6"];
        ids.sort_by_key(|id| case_order(id));
        assert_eq!(ids, ["1.1.1", "2.9", "2.10", "9.8.6", "10.1.1"]);
    }

    #[test]
    fn a_bad_index_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("index.json"), "{\n  \"a\": {\n    \"1.1\": 3\n  }\n}").unwrap();
        let error = StoredResults::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("index.json") && error.contains("line 3"), "{error}");
        let error = StoredResults::load(&dir.path().join("nothing-here")).unwrap_err().to_string();
        assert!(error.ends_with("nothing-here: no such report folder or index.json"), "{error}");
    }
}
