//! Autobahn's spec files, so an existing `fuzzingclient.json` or `fuzzingserver.json` drives wsspec
//! unchanged.

use std::{collections::BTreeMap, path::Path};

use serde::{de::DeserializeOwned, Deserialize};
use wsspec::catalog::{full_match, Catalog, Role};

use super::{
    progress::{agent_name, terminal_safe},
    selection::{check_patterns, PatternUse},
};

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
        if self.cases.is_empty() {
            return Err(format!("{}: `cases` is empty, so it selects no case (`[\"*\"]` selects them all)", path.display()));
        }
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
    /// Only in `fuzzingclient.json`: present, the file is refused (the wrong mode).
    #[serde(default)]
    servers: Option<serde_json::Value>,
    #[serde(flatten)]
    pub selection: Selection,
}

/// The largest spec file read, in bytes (Autobahn's are a few hundred bytes).
pub const MAX_SPEC_BYTES: u64 = 16 << 20;

/// Reads a regular file of at most `max` bytes (never a FIFO, a device or a link) as UTF-8.
pub fn read_text(path: &Path, max: u64) -> Result<String, String> {
    let bytes = wsspec_reports::fs::read_regular(path, max).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = read_text(path, MAX_SPEC_BYTES)?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

impl ServerEntry {
    /// The name the server's results are filed under (Autobahn's default: `UnknownServer`).
    pub fn agent(&self) -> &str {
        self.agent.as_deref().unwrap_or("UnknownServer")
    }
}

/// Loads `fuzzingclient.json`. Two servers under one agent name are refused (their results would
/// overwrite each other); an agent pattern of `exclude-agent-cases` that matches no server only
/// warns, as Autobahn ignores it.
pub fn load(path: &Path) -> Result<FuzzingClientSpec, String> {
    let spec: FuzzingClientSpec = read(path)?;
    if spec.servers.is_empty() {
        return Err(format!("{}: `servers` lists no server to test", path.display()));
    }
    let agents: Vec<&str> = spec.servers.iter().map(ServerEntry::agent).collect();
    if let Some((i, agent)) = agents.iter().enumerate().find(|(i, a)| agents[..*i].contains(a)) {
        return Err(format!(
            "{}: `servers`: entry {} has the agent name `{}` of an earlier entry; give each server its own `agent`",
            path.display(),
            i + 1,
            agent_name(agent)
        ));
    }
    for pattern in spec.selection.exclude_agent_cases.keys().filter(|p| !agents.iter().any(|a| full_match(p, a))) {
        say!(
            "wsspec: warning: {}: `exclude-agent-cases`: the agent pattern `{}` matches no server (agents: {}; a pattern matches a whole name); ignored",
            path.display(),
            terminal_safe(pattern),
            agents.iter().map(|a| agent_name(a)).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(spec)
}

/// Loads `fuzzingserver.json`. A file with `servers` is a `fuzzingclient.json` (servers to test),
/// refused with a line naming the command that takes it: testing clients with it would ignore its
/// servers and wait for drivers that never come.
pub fn load_server_spec(path: &Path) -> Result<FuzzingServerSpec, String> {
    let spec: FuzzingServerSpec = read(path)?;
    if spec.servers.is_some() {
        return Err(format!(
            "{}: has `servers`, so it is a fuzzingclient spec (servers to test): `wsspec server --spec` takes it; `wsspec client --spec` takes a fuzzingserver spec (`url`)",
            path.display()
        ));
    }
    Ok(spec)
}
