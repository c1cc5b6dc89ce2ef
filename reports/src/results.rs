//! Results as a run left them on disk: `index.json` and the per-case records beside it. Every report
//! is rendered from these, never by running anything again.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{
    autobahn::{report_file_name, Index},
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
    /// Reads `path`, a report folder or its `index.json`.
    pub fn load(path: &Path) -> Result<Self, ReportError> {
        if !path.exists() {
            return Err(ReportError::read(path, "no such report folder or index.json"));
        }
        let (dir, file) = if path.is_dir() {
            (path.to_path_buf(), path.join("index.json"))
        } else {
            (path.parent().unwrap_or(Path::new("")).to_path_buf(), path.to_path_buf())
        };
        let text = fs::read(&file).map_err(|e| ReportError::read(&file, e))?;
        let index = serde_json::from_slice(&text).map_err(|e| ReportError::read(&file, e))?;
        Ok(Self { dir, index })
    }

    /// The record of one result. Its file name comes from the agent and id by Autobahn's rule, not
    /// from `reportfile`, so a doctored index cannot point outside the folder.
    pub fn record(&self, agent: &str, id: &str) -> Result<CaseRecord, ReportError> {
        let path = self.dir.join(report_file_name(agent, id));
        let text = fs::read(&path).map_err(|e| ReportError::read(&path, e))?;
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

/// Sort key of a case id: numerically by part, so 2.10 follows 2.9 and 10.1.1 follows 9.8.6.
pub fn case_order(id: &str) -> Vec<u32> {
    id.split('.').map(|p| p.parse().unwrap_or(u32::MAX)).collect()
}

#[cfg(test)]
mod tests {
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
