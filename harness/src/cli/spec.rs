//! Autobahn's spec files, so an existing `fuzzingclient.json` or `fuzzingserver.json` drives wsspec
//! unchanged.

use std::{collections::BTreeMap, path::Path};

use serde::{de::DeserializeOwned, Deserialize};
use wsspec::catalog::{full_match, Catalog, Role};

use super::selection::{check_patterns, PatternUse};

/// What both spec files share: the case selection, the report folder, Autobahn's options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Selection {
    #[serde(default)]
    pub outdir: Option<String>,
    pub cases: Vec<String>,
    #[serde(default)]
    pub exclude_cases: Vec<String>,
    #[serde(default)]
    pub exclude_agent_cases: BTreeMap<String, Vec<String>>,
    /// Autobahn's protocol options; wsspec has its own defaults and ignores them.
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

impl Selection {
    /// Refuses a case pattern of the file at `path` that selects no case for `role`, naming the
    /// file, the key and the pattern (exit 2): a typo must not quietly shrink the run.
    pub fn check_patterns(&self, path: &Path, catalog: &Catalog, role: Role) -> Result<(), String> {
        let at = |key: String| move |e: String| format!("{}: `{key}`: {e}", path.display());
        check_patterns(catalog, role, &self.cases, PatternUse::Select).map_err(at("cases".into()))?;
        check_patterns(catalog, role, &self.exclude_cases, PatternUse::Exclude).map_err(at("exclude-cases".into()))?;
        for (agent, cases) in &self.exclude_agent_cases {
            check_patterns(catalog, role, cases, PatternUse::Exclude).map_err(at(format!("exclude-agent-cases.{agent}")))?;
        }
        Ok(())
    }
}

/// `fuzzingclient.json`, for `wsspec server --spec`.
#[derive(Debug, Deserialize)]
pub struct FuzzingClientSpec {
    #[serde(default)]
    pub servers: Vec<ServerEntry>,
    #[serde(flatten)]
    pub selection: Selection,
}

#[derive(Debug, Deserialize)]
pub struct ServerEntry {
    pub url: String,
    /// The TLS server name to indicate and verify (SNI), when it differs from the URL's host.
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

/// `fuzzingserver.json`, for `wsspec client --spec`.
#[derive(Debug, Deserialize)]
pub struct FuzzingServerSpec {
    /// `ws://host:port` (or `wss://`, with TLS) to listen on.
    pub url: Option<String>,
    /// TLS: the certificate chain (PEM) to listen with; with `key`.
    #[serde(default)]
    pub cert: Option<std::path::PathBuf>,
    /// TLS: the certificate's private key (PEM).
    #[serde(default)]
    pub key: Option<std::path::PathBuf>,
    #[serde(flatten)]
    pub selection: Selection,
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads `fuzzingclient.json`; every agent pattern of `exclude-agent-cases` must name a server of
/// the file (one without `agent` is `UnknownServer`).
pub fn load(path: &Path) -> Result<FuzzingClientSpec, String> {
    let spec: FuzzingClientSpec = read(path)?;
    if spec.servers.is_empty() {
        return Err(format!("{}: `servers` lists no server to test", path.display()));
    }
    let agents: Vec<&str> = spec.servers.iter().map(|s| s.agent.as_deref().unwrap_or("UnknownServer")).collect();
    if let Some(pattern) = spec.selection.exclude_agent_cases.keys().find(|p| !agents.iter().any(|a| full_match(p, a))) {
        return Err(format!(
            "{}: `exclude-agent-cases`: the agent pattern `{pattern}` matches no server (agents: {}; the pattern must match a whole name)",
            path.display(),
            agents.join(", ")
        ));
    }
    Ok(spec)
}

pub fn load_server_spec(path: &Path) -> Result<FuzzingServerSpec, String> {
    read(path)
}
