//! What a CI user sees of a run that did not simply pass: JUnit that lists wsspec's own errors and
//! the cases a run never reached, reports that say how a `wss://` server's certificate was checked,
//! `wsspec report` on a folder another run is still writing, expectation patterns that match no case
//! of the run, `wsspec tls-cert` that never replaces a key, and `{ca}` in `client --exec`.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use wsspec::{
    peers::reference_server::ReferenceServer,
    tls::{certs, Acceptor},
};

use crate::support::{self, wsspec};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn junit(path: &Path) -> Report {
    Report::deserialize_from_str(&fs::read_to_string(path).unwrap()).expect("well-formed JUnit")
}

/// Every testcase of `report` as (name, status).
fn testcases(report: &Report) -> Vec<(String, TestCaseStatus)> {
    report.test_suites.iter().flat_map(|s| s.test_cases.iter().map(|c| (c.name.to_string(), c.status.clone()))).collect()
}

#[test]
fn junit_shows_wsspecs_own_errors_as_errors() {
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("junit.xml");
    let output = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["server", "--out", out.path().to_str().unwrap(), "--cases", "1.1.1", "1.1.2", "--junit", xml.to_str().unwrap()])
        .env("CI", "1")
        .env("WSSPEC_TEST_PANIC", "1.1.2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let report = junit(&xml);
    assert_eq!((report.tests, report.errors, report.failures), (2, 1, 0), "the error is a testcase, not left out");
    assert_eq!(report.test_suites[0].errors, 1, "and counted in its suite");
    let (name, status) = testcases(&report).into_iter().find(|(name, _)| name.starts_with("1.1.2")).expect("1.1.2 is listed");
    let TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message, .. } = status else { panic!("{name}: an <error>: {status:?}") };
    let message = message.unwrap().to_string();
    assert!(message.starts_with("ERROR: wsspec's own fault, not the target's") && message.contains("wsspec panicked"), "{message}");
}

#[test]
fn junit_of_an_interrupted_run_lists_the_cases_it_never_reached_as_errors() {
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("junit.xml");
    let args = ["server", "--out", out.path().to_str().unwrap(), "--jobs", "1", "--cases", "1.*", "2.*", "6.4.*", "--junit", xml.to_str().unwrap()];
    let (code, stderr) = support::interrupted(&args, Duration::from_millis(1500));
    assert_eq!(code, Some(3), "{stderr}");
    let selected = json(&out.path().join("wsspec-run.json"))["agents"]["tungstenite-embedded"]["selected"].as_array().unwrap().len();
    let index = json(&out.path().join("index.json"));
    let ran = index["tungstenite-embedded"].as_object().unwrap().len();
    assert!(ran < selected, "the interrupt came before the end: {ran} of {selected}");
    let report = junit(&xml);
    assert_eq!(report.tests, selected, "every selected case is a testcase");
    assert_eq!((report.skipped, report.errors), (0, selected - ran), "the ones not reached are errors: an incomplete run is never green");
    let errors: Vec<String> = testcases(&report)
        .into_iter()
        .filter_map(|(_, status)| match status {
            TestCaseStatus::NonSuccess { message, .. } => message.map(|m| m.to_string()),
            _ => None,
        })
        .collect();
    assert!(errors.iter().all(|m| m.starts_with("not run: the run is incomplete: SIGINT received")), "{errors:?}");
}

/// A client that ran but left a case out fails it; one that never connected is a broken setup, its
/// cases errors (not run), never green either.
#[test]
fn junit_fails_the_cases_a_client_never_ran() {
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("junit.xml");
    // The driver files its results under another agent than the one expected (`client`).
    let driver = format!("{} reference-client {{url}} --agent other", env!("CARGO_BIN_EXE_wsspec"));
    let (code, _, stderr) = wsspec(&["client", "--out", out.path().to_str().unwrap(), "--cases", "1.1.1", "--exec", &driver, "--junit", xml.to_str().unwrap()]);
    assert_eq!(code, 1, "a client that ran none of the expected agent's cases: {stderr}");
    let report = junit(&xml);
    assert_eq!((report.tests, report.failures), (2, 1), "the case the client never ran is a failure (the other agent's passed)");
    let failed = testcases(&report).into_iter().any(|(_, status)| {
        matches!(status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message: Some(m), .. } if m.contains("never ran"))
    });
    assert!(failed, "{:?}", testcases(&report));

    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("junit.xml");
    let (code, _, stderr) = wsspec(&["client", "--out", out.path().to_str().unwrap(), "--cases", "1.1.1", "--exec", "true", "--junit", xml.to_str().unwrap()]);
    assert_eq!(code, 2, "a client that never connected: {stderr}");
    let report = junit(&xml);
    assert_eq!((report.tests, report.failures, report.errors), (1, 0, 1), "its case is not run: an error");
    assert!(errors(&report).iter().all(|m| m.starts_with("not run:") && m.contains("never connected")), "{:?}", errors(&report));
}

/// The message of every `<error>` testcase.
fn errors(report: &Report) -> Vec<String> {
    testcases(report)
        .into_iter()
        .filter_map(|(_, status)| match status {
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message, .. } => Some(message.map(|m| m.to_string()).unwrap_or_default()),
            _ => None,
        })
        .collect()
}

/// A `--spec` server that cannot be reached: its cases are `<error>`s (the target's failure), not
/// `<skipped>`; a later run into the same folder writes JUnit for its own agent only, while
/// `wsspec report --junit` writes the whole folder.
#[tokio::test(flavor = "multi_thread")]
async fn junit_holds_this_runs_agents_and_errors_for_an_unreachable_target() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("reports");
    let spec = serde_json::json!({
        "servers": [{"agent": "down", "url": "ws://127.0.0.1:1"}, {"agent": "up", "url": server.url()}],
        "cases": ["1.1.1", "1.1.2"],
    });
    let spec_path = out.path().join("fuzzingclient.json");
    fs::write(&spec_path, spec.to_string()).unwrap();
    let run = |args: Vec<String>| tokio::task::spawn_blocking(move || wsspec(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let first = out.path().join("first.xml");
    let (code, _, stderr) = run(vec!["server".into(), "--spec".into(), path(&spec_path), "--out".into(), path(&dir), "--junit".into(), path(&first)]).await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    let report = junit(&first);
    assert_eq!((report.tests, report.errors, report.failures, report.skipped), (4, 2, 0, 0), "{report:?}");
    let errors = errors(&report);
    assert!(errors.iter().all(|m| m.starts_with("not run: cannot reach the target ws://127.0.0.1:1")), "{errors:?}");

    let second = out.path().join("second.xml");
    let args = ["server", "--agent", "other", &server.url(), "--out", &path(&dir), "--cases", "1.1.1", "--junit", &path(&second)].map(String::from);
    let (code, _, stderr) = run(args.to_vec()).await.unwrap();
    assert_eq!(code, 0, "{stderr}");
    let report = junit(&second);
    assert_eq!((report.tests, report.errors, report.failures), (1, 0, 0), "only this run's agent: {report:?}");
    assert_eq!(report.test_suites[0].test_cases[0].classname.as_ref().unwrap().as_str(), "other");

    let whole = out.path().join("whole.xml");
    let (code, _, stderr) = run(vec!["report".into(), path(&dir), "--junit".into(), path(&whole)]).await.unwrap();
    assert_eq!(code, 2, "the folder holds a server that was not reached: {stderr}");
    assert_eq!(junit(&whole).tests, 5, "`wsspec report` writes every agent of the folder");
}

/// A `--spec` run interrupted while its first server runs: the servers the interrupt kept from
/// running are in the report with their cases not run, so neither its JUnit nor `wsspec report`
/// looks complete.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_spec_run_keeps_the_servers_it_never_reached_in_the_report() {
    let server = ReferenceServer::start().await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("reports");
    let cases = ["6.4.1", "6.4.2", "6.4.3", "6.4.4", "1.1.1"];
    let spec = serde_json::json!({"servers": [{"agent": "first", "url": server.url()}, {"agent": "later", "url": server.url()}], "cases": cases});
    let spec_path = out.path().join("fuzzingclient.json");
    fs::write(&spec_path, spec.to_string()).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let (spec_arg, dir_arg, xml) = (path(&spec_path), path(&dir), out.path().join("run.xml"));
    let xml_arg = path(&xml);
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        support::interrupted(&["server", "--spec", &spec_arg, "--out", &dir_arg, "--junit", &xml_arg], Duration::from_millis(300))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("later: not run (SIGINT received)"), "{stderr}");
    let report = junit(&xml);
    assert_eq!(report.tests, 10, "both servers' cases: {report:?}");
    let later = report.test_suites.iter().flat_map(|s| &s.test_cases).filter(|c| c.classname.as_ref().is_some_and(|n| n.as_str() == "later"));
    assert!(later.clone().count() == cases.len() && later.clone().all(|c| matches!(c.status, TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, .. })));
    let (code, _, stderr) = tokio::task::spawn_blocking(move || wsspec(&["report", &path(&dir)])).await.unwrap();
    assert_eq!(code, 2, "an interrupted folder never passes: {stderr}");
}

/// A target that drops every opening handshake: the cases it stopped are `<error>`s.
#[test]
fn junit_counts_a_target_that_drops_every_handshake_as_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
        }
    });
    let out = tempfile::tempdir().unwrap();
    let xml = out.path().join("junit.xml");
    let (code, _, stderr) = wsspec(&["server", &url, "--out", out.path().to_str().unwrap(), "--cases", "1.1.*", "--junit", xml.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    let report = junit(&xml);
    assert_eq!((report.tests, report.skipped), (8, 0), "{report:?}");
    assert!(report.errors + report.failures == 8 && report.errors > 0, "{report:?}");
    assert!(errors(&report).iter().all(|m| m.starts_with("not run: cannot reach the target")), "{report:?}");
}

#[test]
fn tls_cert_never_replaces_a_key_and_keeps_it_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = wsspec(&["tls-cert", path]);
    assert_eq!(code, 0, "{stderr}");
    let mode = |file: &str| fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("key.pem"), 0o600, "the private key is its owner's only");
    assert_eq!(mode("ca.pem") & 0o600, 0o600);
    let ca = fs::read(dir.path().join("ca.pem")).unwrap();
    let (code, _, stderr) = wsspec(&["tls-cert", path]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(&format!("{path}/ca.pem: already exists")) && stderr.contains("--force"), "{stderr}");
    assert_eq!(fs::read(dir.path().join("ca.pem")).unwrap(), ca, "nothing was replaced");
    fs::set_permissions(dir.path().join("key.pem"), fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, stderr) = wsspec(&["tls-cert", path, "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(fs::read(dir.path().join("ca.pem")).unwrap(), ca, "--force replaces them");
    assert_eq!(mode("key.pem"), 0o600, "a replaced key is private too");
}

#[test]
fn expectation_patterns_outside_the_selection_are_named_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let expect = dir.path().join("expect.toml");
    fs::write(&expect, "[[expect]]\ncases = [\"1.1.1\", \"9.*\"]\nbehavior = [\"FAILED\"]\nwhy = \"was broken\"\n").unwrap();
    let args = ["server", "--out", out.to_str().unwrap(), "--cases", "1.1.1", "--expect", expect.to_str().unwrap()];
    let (code, _, stderr) = wsspec(&args);
    assert_eq!(code, 1, "1.1.1 passes now, so the entry is stale: {stderr}");
    let warning = format!("warning: {}:1: `9.*` matches no case of this run", expect.display());
    assert_eq!(stderr.matches(&warning).count(), 1, "one line for the pattern that matches nothing: {stderr}");
    assert!(!stderr.contains("`1.1.1` matches no case"), "{stderr}");
    let (_, _, stderr) = wsspec(&["report", out.to_str().unwrap(), "--expect", expect.to_str().unwrap()]);
    assert!(stderr.contains(&warning), "report warns the same: {stderr}");

    let (code, _, stderr) = wsspec(&[&args[..], &["--update-expectations"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let updated = fs::read_to_string(&expect).unwrap();
    assert!(updated.contains("cases = [\"9.*\"]") && updated.contains("why = \"was broken\""), "the unreached pattern is kept: {updated}");
    assert!(!updated.contains("\"1.1.1\""), "the stale one is gone: {updated}");
}

#[test]
fn a_report_made_without_certificate_checks_says_so() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReferenceServer::start_tls(Acceptor::in_memory(&certs::names_for("127.0.0.1")).unwrap())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, _, stderr) = wsspec(&["server", &server.url(), "--agent", "self-signed", "--cases", "1.1.1", "--out", dir, "--insecure"]);
    assert_eq!(code, 0, "{stderr}");
    let run = json(&out.path().join("wsspec-run.json"));
    let tls = &run["agents"]["self-signed"]["tls"];
    assert_eq!(tls["certificateVerified"], false, "{run}");
    assert!(tls["trust"].as_str().unwrap().contains("NOT verified (--insecure)"), "{run}");
    let header = |out: &Path| {
        let html = fs::read_to_string(out.join("index.html")).unwrap();
        html[..html.find("</header>").unwrap()].to_string()
    };
    assert!(header(out.path()).contains("WARNING: self-signed: TLS: the server&#39;s certificate is NOT verified (--insecure)"), "{}", header(out.path()));

    // The TLS demo has its own agent, so both demos share one folder; its CA is wsspec's own.
    for extra in [&[][..], &["--embedded-tls"][..]] {
        let (code, _, stderr) = wsspec(&[&["server", "--cases", "1.1.1", "--out", dir][..], extra].concat());
        assert_eq!(code, 0, "{extra:?}: {stderr}");
    }
    let index = json(&out.path().join("index.json"));
    let agents: Vec<&String> = index.as_object().unwrap().keys().collect();
    assert_eq!(agents, ["self-signed", "tungstenite-embedded", "tungstenite-embedded-tls"]);
    let run = json(&out.path().join("wsspec-run.json"));
    assert_eq!(run["agents"]["tungstenite-embedded-tls"]["tls"]["certificateVerified"], true, "{run}");
    assert!(run["agents"]["tungstenite-embedded"].get("tls").is_none(), "plain TCP has no TLS entry: {run}");
    assert!(!header(out.path()).contains("WARNING: tungstenite"), "{}", header(out.path()));
}

#[test]
fn report_on_a_folder_still_being_written_says_still_running() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    // 6.4.x pause 2 s each; one at a time, the run lasts several seconds.
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsspec"))
        .args(["server", "--out", dir, "--jobs", "1", "--cases", "6.4.*"])
        .env("CI", "1")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !out.path().join("index.json").exists() {
        assert!(Instant::now() < deadline, "the run records its first result");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the run is still running (another wsspec process is writing to this folder)"), "{stderr}");
    assert!(!stderr.contains("killed or crashed"), "{stderr}");
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, _, stderr) = wsspec(&["report", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("the run is never finished (wsspec was killed or crashed)"), "once the writer is gone: {stderr}");
}

#[test]
fn ca_in_exec_is_the_operators_ca_or_certificate_or_refused() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, _, stderr) = wsspec(&["client", "--out", dir, "--cases", "1.1.1", "--exec", "my-client {url} {ca}"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--exec uses {ca}, but there is no CA to give the client"), "{stderr}");
    assert!(!out.path().join("index.json").exists(), "refused before anything runs");

    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    let (cert_path, key_path, ca_path) = (out.path().join("cert.pem"), out.path().join("key.pem"), out.path().join("ca.pem"));
    fs::write(&cert_path, cert.pem()).unwrap();
    fs::write(&key_path, key.serialize_pem()).unwrap();
    fs::write(&ca_path, cert.pem()).unwrap();
    let seen = out.path().join("seen");
    let exec = format!("printf %s {{ca}} > {}", seen.display());
    let tls = ["--tls", "--cert", cert_path.to_str().unwrap(), "--key", key_path.to_str().unwrap()];
    let base = ["client", "--out", dir, "--cases", "1.1.1", "--exec", &exec];
    let (code, _, stderr) = wsspec(&[&base[..], &tls[..]].concat());
    assert_eq!(code, 2, "the client never connected: {stderr}");
    assert_eq!(fs::read_to_string(&seen).unwrap(), cert_path.to_str().unwrap(), "{{ca}} is the certificate chain");
    let (code, _, stderr) = wsspec(&[&base[..], &tls[..], &["--ca", ca_path.to_str().unwrap()]].concat());
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(fs::read_to_string(&seen).unwrap(), ca_path.to_str().unwrap(), "{{ca}} is --ca when given");
}
