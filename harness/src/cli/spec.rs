//! Autobahn's spec files, so an existing `fuzzingclient.json` or `fuzzingserver.json` drives wsspec
//! unchanged.

use std::{collections::BTreeMap, path::Path};

use serde::{de::DeserializeOwned, Deserialize};

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

pub fn load(path: &Path) -> Result<FuzzingClientSpec, String> {
    let spec: FuzzingClientSpec = read(path)?;
    if spec.servers.is_empty() {
        return Err(format!("{}: `servers` lists no server to test", path.display()));
    }
    Ok(spec)
}

pub fn load_server_spec(path: &Path) -> Result<FuzzingServerSpec, String> {
    read(path)
}
