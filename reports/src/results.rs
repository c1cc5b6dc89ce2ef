//! Results as a run left them on disk: `index.json` and the per-case records beside it. Every report
//! is rendered from these, never by running anything again.

use std::{
    io,
    path::{Path, PathBuf},
};

use crate::{
    autobahn::{stored_file_stem, Index},
    fs::{is_refusal, read_regular, MAX_INDEX_BYTES, MAX_RECORD_BYTES},
    CaseRecord, ReportError,
};

/// A report folder's results, possibly of several agents.
#[derive(Debug, Clone)]
pub struct StoredResults {
    /// Where the per-case records are.
    pub dir: PathBuf,
    pub index: Index,
}

impl StoredResults {
    /// Reads `path`, a report folder or its `index.json`. The index must be a regular file (not a
    /// link, FIFO or device) of at most `fs::MAX_INDEX_BYTES`; anything else is `ReportError::Refused`.
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
        Ok(Self { dir, index })
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

    /// Every case id any agent has, in catalog order.
    pub fn case_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.index.values().flat_map(|cases| cases.keys().map(String::as_str)).collect();
        ids.sort_by_key(|id| case_order(id));
        ids.dedup();
        ids
    }
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
