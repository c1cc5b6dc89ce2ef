//! Shared test helpers: run cases against a URL and read the verdicts back.

pub mod keepalive;

use std::{collections::BTreeMap, path::Path, time::Duration};

use wsspec::{
    catalog::{case_matches, Case, Catalog, Role},
    engine::{run_cases, RunConfig, RunError, RunOptions, Stop, Target},
    peers::reference_server::ReferenceServer,
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
    run_with(url, cases, RunOptions::default()).await.expect("the run completes")
}

/// [`run`] with `options`. A case that wsspec declined to judge because its own timers ran late (an
/// overloaded machine: tests run in parallel on small CI machines) runs again, alone, up to twice;
/// any other error of wsspec's fails the test.
pub async fn run_with(url: &str, cases: &[Case], options: RunOptions) -> Result<BTreeMap<String, CaseRecord>, RunError> {
    let mut records = BTreeMap::new();
    let mut pending = cases.to_vec();
    for attempt in 0..3 {
        let out = tempfile::tempdir().expect("temp dir");
        let jobs = if attempt == 0 { options.jobs } else { 1 };
        let config = RunConfig { agent: "test".into(), target: Target::parse(url).expect("valid url"), options: RunOptions { jobs, ..options.clone() } };
        let sink = Sink::open(out.path()).expect("a writable folder");
        let mut these = BTreeMap::new();
        let report = run_cases(&pending, &config, &sink, &Stop::new(), |r| drop(these.insert(r.id.clone(), r.clone()))).await?;
        assert_eq!(report.results.len(), these.len(), "every result was handed over");
        let (overloaded, errors): (Vec<_>, Vec<_>) = report.errors.iter().partition(|(_, e)| e.contains("the machine is overloaded"));
        assert!(errors.is_empty(), "wsspec's own errors: {errors:?}");
        assert!(report.not_run.is_empty(), "cases left out as not run: {:?} ({:?})", report.not_run, report.end);
        records.append(&mut these);
        pending.retain(|c| overloaded.iter().any(|(id, _)| id == c.id.as_str()));
        if pending.is_empty() {
            return Ok(records);
        }
    }
    panic!("still overloaded after two reruns: {:?}", pending.iter().map(|c| c.id.to_string()).collect::<Vec<_>>())
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

/// Runs the `wsspec` command as CI would, sends it SIGINT `after` its first line on stderr (a
/// Ctrl-C mid-run; the first line comes once its signal handlers are in place, however loaded the
/// machine) and waits: its exit code and stderr.
pub fn interrupted(args: &[&str], after: std::time::Duration) -> (Option<i32>, String) {
    interrupted_when(args, |_| true, after)
}

/// As [`interrupted`], counting `after` from the first line on stderr that `cue` accepts.
pub fn interrupted_when(args: &[&str], cue: impl Fn(&str) -> bool + Send + 'static, after: std::time::Duration) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(args)
        .env("CI", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsspec starts");
    let (cued, heard) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().expect("piped"));
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in stderr.lines().map_while(Result::ok) {
            if cue(&line) {
                let _ = cued.send(());
            }
            text += &line;
            text.push('\n');
        }
        text
    });
    heard.recv_timeout(std::time::Duration::from_secs(120)).expect("wsspec gives its cue within 120 s");
    std::thread::sleep(after);
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success(), "SIGINT sent");
    let status = child.wait().expect("wsspec ends");
    (status.code(), reader.join().expect("stderr read"))
}

/// Runs the `wsspec` command as CI would (plain progress lines): exit code, stdout, stderr.
pub fn wsspec(args: &[&str]) -> (i32, String, String) {
    wsspec_in(Path::new("."), args)
}

/// [`wsspec`] with `cwd` as the working directory, where the default report folder (`reports/`) goes.
pub fn wsspec_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_wsspec")).args(args).current_dir(cwd).env("CI", "1").output().expect("wsspec runs");
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

/// A proxy in front of a fresh reference server that serves at most `limit` connections at once
/// and answers 503 to the others (as a server with a connection limit, or nginx's `limit_conn`,
/// does): its URL, and the server to keep alive.
pub async fn limited(limit: usize) -> (String, ReferenceServer) {
    limited_with(limit, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await
}

/// As [`limited`], writing `refusal` to the connections beyond `limit` (nothing: closed unanswered,
/// as a TCP proxy with a connection cap does). A connection counts until both sides have closed.
pub async fn limited_with(limit: usize, refusal: &'static [u8]) -> (String, ReferenceServer) {
    use std::sync::{atomic::{AtomicUsize, Ordering}, Arc};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = ReferenceServer::start().await.unwrap();
    let upstream = backend.url().trim_start_matches("ws://").trim_end_matches('/').to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let active = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (upstream, active) = (upstream.clone(), active.clone());
            tokio::spawn(async move {
                if active.fetch_add(1, Ordering::SeqCst) >= limit {
                    active.fetch_sub(1, Ordering::SeqCst);
                    let mut head = [0u8; 4096];
                    let _ = client.read(&mut head).await;
                    let _ = client.write_all(refusal).await;
                    return;
                }
                if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (url, backend)
}

/// A proxy in front of a fresh reference server: `answer` sees each connection's number (from 0,
/// the reachability check included) and the start of its request and gives what to write back
/// instead (nothing: the connection is closed unanswered), or `None` to forward the connection
/// after `delay`. Its URL, and the server to keep alive.
pub async fn proxy(delay: Duration, answer: impl Fn(usize, &str) -> Option<&'static [u8]> + Send + Sync + 'static) -> (String, ReferenceServer) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let backend = ReferenceServer::start().await.unwrap();
    let upstream = backend.url().trim_start_matches("ws://").trim_end_matches('/').to_string();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        for n in 0.. {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (upstream, answer) = (upstream.clone(), answer.clone());
            tokio::spawn(async move {
                let mut head = vec![0u8; 8192];
                let read = client.read(&mut head).await.unwrap_or(0);
                if let Some(bytes) = answer(n, &String::from_utf8_lossy(&head[..read])) {
                    let _ = client.write_all(bytes).await;
                    return;
                }
                tokio::time::sleep(delay).await;
                if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                    let _ = server.write_all(&head[..read]).await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (url, backend)
}

/// A [`proxy`] that refuses with `refusal` (nothing: closed unanswered) each connection `refuse`
/// picks by its number and the start of its request, whatever the load, and forwards the others.
pub async fn refusing(refusal: &'static [u8], refuse: fn(usize, &str) -> bool) -> (String, ReferenceServer) {
    proxy(Duration::ZERO, move |n, head| refuse(n, head).then_some(refusal)).await
}

/// As [`refusing`], 503 to every other connection (the reachability check passes): a round-robin
/// load balancer in front of two backends, one of them down.
pub async fn every_other() -> (String, ReferenceServer) {
    refusing(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", |n, _| n % 2 == 1).await
}

/// A client-testing server on a free port of 127.0.0.1 over `cases`, its results in `out`, with
/// default options and no TLS.
pub async fn client_test_server(cases: Vec<wsspec::catalog::Case>, out: &std::path::Path) -> wsspec::client_testing::ClientTestServer {
    let config = wsspec::client_testing::ClientTestConfig {
        cases,
        exclude_agent_cases: Default::default(),
        sink: std::sync::Arc::new(wsspec_reports::sink::Sink::open(out).unwrap()),
        options: wsspec::engine::RunOptions::default(),
        on_result: None,
        tls: None,
        on_refusal: None,
    };
    wsspec::client_testing::ClientTestServer::start("127.0.0.1:0", config).await.unwrap()
}
