//! Shared test helpers: run cases against a URL and read the verdicts back.

use std::collections::BTreeMap;

use wsspec::{
    catalog::{case_matches, Case, Catalog, Role},
    engine::{run_cases, RunConfig, RunOptions, Stop, Target},
};
use wsspec_reports::{sink::Sink, CaseRecord, IndexEntry};

pub fn catalog() -> Catalog {
    Catalog::embedded().expect("the embedded catalog loads")
}

/// Server-role cases whose id matches one of `patterns`.
pub fn cases(patterns: &[&str]) -> Vec<Case> {
    catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Server) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect()
}

/// Runs `cases` against `url` and returns the records by id (as the sink wrote them).
pub async fn run(url: &str, cases: &[Case]) -> BTreeMap<String, CaseRecord> {
    let out = tempfile::tempdir().expect("temp dir");
    let config = RunConfig { agent: "test".into(), target: Target::parse(url).expect("valid url"), options: RunOptions::default() };
    let sink = Sink::open(out.path()).expect("a writable folder");
    let mut records = BTreeMap::new();
    let report = run_cases(cases, &config, &sink, &Stop::new(), |r| drop(records.insert(r.id.clone(), r.clone()))).await.expect("the run completes");
    assert_eq!(report.results.len(), records.len(), "every result was handed over");
    records
}

/// Ids of the records that fail a run.
pub fn failing(records: &BTreeMap<String, CaseRecord>) -> Vec<String> {
    records.values().filter(|r| IndexEntry::is_failure(&r.index_entry())).map(|r| r.id.clone()).collect()
}

/// `behavior | behaviorClose | remoteCloseCode`, the fields a baseline pins.
pub fn verdict_line(record: &CaseRecord) -> String {
    let code = record.remote_close_code.map_or("none".to_string(), |c| c.to_string());
    format!("{} | {} | {}", record.behavior.as_str(), record.behavior_close.as_str(), code)
}

/// The committed baseline `tests/baselines/NAME` (id → [`verdict_line`]); with `WSSPEC_BLESS` set,
/// first rewritten from `records` (after a reviewed change).
pub fn baseline(name: &str, records: &BTreeMap<String, CaseRecord>) -> BTreeMap<String, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/baselines").join(name);
    if std::env::var_os("WSSPEC_BLESS").is_some() {
        let observed: BTreeMap<&String, String> = records.iter().map(|(id, r)| (id, verdict_line(r))).collect();
        std::fs::write(&path, serde_json::to_string_pretty(&observed).unwrap() + "\n").unwrap();
    }
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// One line per id whose verdict line in `records` is not the `expected` one (either side may lack
/// it), with the record's reasons.
pub fn differences(expected: &BTreeMap<String, String>, records: &BTreeMap<String, CaseRecord>) -> Vec<String> {
    let observed: BTreeMap<&String, String> = records.iter().map(|(id, r)| (id, verdict_line(r))).collect();
    let ids: std::collections::BTreeSet<&String> = expected.keys().chain(observed.keys().copied()).collect();
    ids.into_iter()
        .filter(|id| expected.get(*id) != observed.get(*id))
        .map(|id| {
            let why = records.get(id).map(|r| format!(" ({}; {})", r.result, r.result_close)).unwrap_or_default();
            format!("{id}: expected {:?}, got {:?}{why}", expected.get(id), observed.get(id))
        })
        .collect()
}

/// Runs the `wsspec` command as CI would, sends it SIGINT `after` (a Ctrl-C mid-run) and waits:
/// its exit code and stderr.
pub fn interrupted(args: &[&str], after: std::time::Duration) -> (Option<i32>, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsspec starts");
    std::thread::sleep(after);
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success(), "SIGINT sent");
    let output = child.wait_with_output().expect("wsspec ends");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Runs the `wsspec` command as CI would (plain progress lines): exit code, stdout, stderr.
pub fn wsspec(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec")).args(args).env("CI", "1").output().expect("wsspec runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Reads a client's request head and answers a valid 101; false when the client went away first.
pub async fn accept_websocket(stream: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            return false;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let key = text.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).unwrap_or("").trim().to_string();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        wsspec::handshake::accept_key(&key)
    );
    stream.write_all(response.as_bytes()).await.is_ok()
}
