//! Autobahn's `fuzzingclient.json`, so an existing spec file drives wsspec unchanged.

use std::{collections::BTreeMap, path::Path};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FuzzingClientSpec {
    #[serde(default)]
    pub outdir: Option<String>,
    #[serde(default)]
    pub servers: Vec<ServerEntry>,
    pub cases: Vec<String>,
    #[serde(default)]
    pub exclude_cases: Vec<String>,
    #[serde(default)]
    pub exclude_agent_cases: BTreeMap<String, Vec<String>>,
    /// Autobahn's protocol options; wsspec has its own defaults and ignores them.
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct ServerEntry {
    pub url: String,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub options: Option<serde_json::Value>,
}

pub fn load(path: &Path) -> Result<FuzzingClientSpec, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec: FuzzingClientSpec = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if spec.servers.is_empty() {
        return Err(format!("{}: `servers` lists no server to test", path.display()));
    }
    Ok(spec)
}

/// Autobahn's `fuzzingserver.json`, for `wsspec client --spec`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FuzzingServerSpec {
    /// `ws://host:port` to listen on.
    pub url: Option<String>,
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

pub fn load_server_spec(path: &Path) -> Result<FuzzingServerSpec, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
