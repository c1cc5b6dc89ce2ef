//! wss:// in both roles: the whole catalog over TLS gives the verdicts it gives over plain TCP
//! (against the embedded tungstenite server and client), the TLS section catches a client that
//! does not verify certificates and passes one that does, and the TLS options of the CLI.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use wsspec::{
    catalog::{case_matches, Case, Role},
    client_testing::{ClientTestConfig, ClientTestServer},
    engine::RunOptions,
    peers::{reference_client::run_driver_with, reference_server::ReferenceServer},
    tls::{certs, Acceptor, Connector, Trust},
};
use wsspec_reports::{sink::Sink, CaseRecord};

use crate::support;

fn acceptor() -> Acceptor {
    Acceptor::in_memory(&certs::names_for("127.0.0.1")).unwrap()
}

fn trusting(acceptor: &Acceptor) -> Connector {
    Connector::trusting(std::slice::from_ref(acceptor.ca().unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_over_wss_matches_the_ws_baseline() {
    let acceptor = acceptor();
    let options = RunOptions { tls: Some(trusting(&acceptor)), ..RunOptions::default() };
    let server = ReferenceServer::start_tls(acceptor).await.unwrap();
    assert!(server.url().starts_with("wss://"));
    let cases: Vec<Case> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.http2.is_none()).collect();
    let records = support::run_with(&server.url(), &cases, options).await.unwrap();
    let diff = support::differences(&support::baseline("tungstenite.json", &records), &records);
    assert!(diff.is_empty(), "verdicts over wss:// differ from ws://:\n{}", diff.join("\n"));
    let tls = records["1.1.1"].tls.as_deref().expect("the report names the TLS parameters");
    assert!(tls.starts_with("TLSv1_3, TLS13_") && tls.contains("ALPN http/1.1"), "{tls}");
}

/// Runs the embedded client over TLS with `connector` against the client cases matching `patterns`.
async fn run_tls_client(patterns: &[&str], connector: &Connector, acceptor: Acceptor) -> (ClientTestServer, BTreeMap<String, CaseRecord>) {
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    let config = ClientTestConfig {
        cases,
        exclude_agent_cases: Default::default(),
        sink: Arc::new(Sink::open(out.path()).unwrap()),
        options: RunOptions::default(),
        on_result: None,
        on_refusal: None,
        tls: Some(acceptor),
    };
    let server = ClientTestServer::start("127.0.0.1:0", config).await.unwrap();
    assert!(server.url().starts_with("wss://localhost:"), "{}", server.url());
    run_driver_with(&server.url(), "client", Some(connector)).await.unwrap();
    server.settle(Duration::from_secs(30)).await;
    let records = server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect();
    (server, records)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_catalog_over_wss_matches_the_ws_baseline_and_a_verifying_client_passes_section_17() {
    let acceptor = acceptor();
    let connector = trusting(&acceptor);
    let (server, records) = run_tls_client(&["*"], &connector, acceptor).await;
    assert!(server.missing("client").is_empty(), "every case has a result: {:?}", server.missing("client"));
    let (tls_cases, plain): (BTreeMap<_, _>, BTreeMap<_, _>) = records.into_iter().partition(|(id, _)| id.starts_with("17."));
    let diff = support::differences(&support::baseline("tungstenite-client.json", &plain), &plain);
    assert!(diff.is_empty(), "verdicts over wss:// differ from ws://:\n{}", diff.join("\n"));
    let ids: Vec<&str> = tls_cases.keys().map(String::as_str).collect();
    assert_eq!(ids, ["17.1.1", "17.1.2", "17.1.3", "17.2.1", "17.3.1"]);
    for record in tls_cases.values() {
        assert_eq!(support::verdict_line(record).split(" | ").take(2).collect::<Vec<_>>(), ["OK", "OK"], "{}: {}", record.id, record.result);
    }
    assert!(tls_cases["17.1.2"].result.contains("refused an expired certificate"), "{}", tls_cases["17.1.2"].result);
    assert!(tls_cases["17.2.1"].tls.as_deref().unwrap().contains("SNI localhost"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_skips_certificate_verification_fails_exactly_the_certificate_cases() {
    let insecure = Connector::new(Trust::Insecure).unwrap();
    let (server, records) = run_tls_client(&["16.1.1", "17.*"], &insecure, acceptor()).await;
    assert!(server.missing("client").is_empty(), "{:?}", server.missing("client"));
    let failing: Vec<&str> = records.values().filter(|r| support::verdict_line(r).starts_with("FAILED")).map(|r| r.id.as_str()).collect();
    assert_eq!(failing, ["17.1.1", "17.1.2", "17.1.3"]);
    assert!(records["17.1.1"].result.contains("accepted a certificate for another name and sent `GET /runCase"), "{}", records["17.1.1"].result);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_tls_the_tls_section_is_not_run() {
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = support::catalog().cases.into_iter().filter(|c| case_matches("17.*", c.id.as_str())).collect();
    assert_eq!(cases.len(), 5);
    let config = ClientTestConfig {
        cases,
        exclude_agent_cases: Default::default(),
        sink: Arc::new(Sink::open(out.path()).unwrap()),
        options: RunOptions::default(),
        on_result: None,
        on_refusal: None,
        tls: None,
    };
    let server = ClientTestServer::start("127.0.0.1:0", config).await.unwrap();
    assert_eq!(server.case_count(), 0);
}

#[test]
fn wss_without_a_trusted_certificate_exits_2_and_insecure_says_so() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReferenceServer::start_tls(acceptor())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let empty_ca = tempfile::NamedTempFile::new().unwrap();
    let (code, _, stderr) = support::wsspec(&["server", &server.url(), "--cases", "1.1.1", "--out", out, "--ca", empty_ca.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no usable certificate"), "{stderr}");

    let other_ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other_ca.path(), certs::throw_away(&["localhost".into()]).unwrap().ca_pem).unwrap();
    let (code, _, stderr) = support::wsspec(&["server", &server.url(), "--cases", "1.1.1", "--out", out, "--ca", other_ca.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    // Another throw-away CA: webpki finds no valid chain (same CA name, so: a bad signature).
    assert!(stderr.contains("cannot reach the target") && stderr.contains("invalid peer certificate"), "{stderr}");
    assert!(stderr.contains("does not hold the CA that issued the server's certificate") && !stderr.contains("give the server's CA"), "{stderr}");

    let (code, _, stderr) = support::wsspec(&["server", &server.url(), "--cases", "1.*", "--out", out, "--insecure"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("NOT verified (--insecure)"), "{stderr}");

    // Bad input: one line, and no report folder made (the default one, in the working directory).
    let cwd = tempfile::tempdir().unwrap();
    let (code, _, stderr) = support::wsspec_in(cwd.path(), &["server", "ws://127.0.0.1:1", "--insecure"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("wss:// servers only") && stderr.lines().count() == 1, "{stderr}");
    assert!(!cwd.path().join("reports").exists(), "a TLS option that does not apply made the default report folder");
}

#[test]
fn client_tls_writes_the_throw_away_ca_and_honours_the_spec_files_cert_and_key() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let (code, _, stderr) = support::wsspec(&["client", "--tls", "--cases", "1.1.1", "17.*", "--out", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.path().join("wsspec-ca.pem").exists() && stderr.contains("wsspec-ca.pem"), "{stderr}");
    assert!(stderr.contains("17.1.2    OK"), "{stderr}");

    // An operator's certificate: the two cases that need wsspec's own CA are left out, and said so.
    let (cert, key) = operator_certificate();
    let (cert_path, key_path) = (out.path().join("cert.pem"), out.path().join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let (cert_path, key_path) = (cert_path.to_str().unwrap(), key_path.to_str().unwrap());
    let (code, _, stderr) = support::wsspec(&["client", "--tls", "--cert", cert_path, "--key", key_path, "--cases", "17.*", "--out", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 selected cases are left out (they need wsspec's throw-away CA to sign the bad certificate: without --cert/--key): 17.1.1, 17.1.2"), "{stderr}");
    assert!(stderr.contains("17.1.3    OK") && stderr.contains("3 OK"), "{stderr}");

    // Without --tls, section 17 is left out with a note; a selection of nothing else runs nothing (exit 2).
    let (code, _, stderr) = support::wsspec(&["client", "--cases", "1.1.1", "17.*", "--out", dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("note: 5 selected cases are left out (TLS cases: they run only with --tls): 17.1.1, 17.1.2, 17.1.3, 17.2.1, 17.3.1"), "{stderr}");
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("wsspec-run.json")).unwrap()).unwrap();
    let notes = run["agents"]["tungstenite-embedded"]["notes"].to_string();
    assert!(notes.contains("5 selected cases are left out (TLS cases"), "kept with the run: {run}");
    let (code, _, stderr) = support::wsspec(&["client", "--cases", "17.*", "--out", dir]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("none of the selected cases can run here"), "{stderr}");

    // Autobahn's fuzzingserver.json keys: `cert` without `key` is refused with the file named.
    let spec = out.path().join("fuzzingserver.json");
    std::fs::write(&spec, format!(r#"{{"url": "wss://127.0.0.1:0", "cert": "{cert_path}", "cases": ["17.*"]}}"#)).unwrap();
    let (code, _, stderr) = support::wsspec(&["client", "--spec", spec.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fuzzingserver.json: `cert` and `key` go together"), "{stderr}");

    // A certificate that cannot be read, or `{ca}` with no CA to give: one line, exit 2, and the
    // report folder untouched (the default one, in the working directory).
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("bad.pem"), "not PEM\n").unwrap();
    assert!(std::process::Command::new("mkfifo").arg(cwd.path().join("fifo.pem")).status().unwrap().success());
    let (cert, key) = operator_certificate();
    std::fs::write(cwd.path().join("cert.pem"), cert).unwrap();
    std::fs::write(cwd.path().join("key.pem"), key).unwrap();
    for (args, says) in [
        (&["client", "--tls", "--cert", "bad.pem", "--key", "bad.pem"][..], "bad.pem: no certificate in the file"),
        (&["client", "--tls", "--cert", "gone.pem", "--key", "gone.pem"], "gone.pem: cannot read PEM: No such file"),
        (&["client", "--exec", "driver {ca}"], "--exec uses {ca}, but there is no CA to give the client"),
        // Never opened (a FIFO blocks until a writer comes), never read without end.
        (&["client", "--tls", "--cert", "fifo.pem", "--key", "fifo.pem"], "fifo.pem: not a regular file"),
        (&["client", "--tls", "--cert", "/dev/zero", "--key", "/dev/zero"], "/dev/zero: not a regular file"),
        (&["client", "--tls", "--cert", "cert.pem", "--key", "key.pem", "--ca", "bad.pem"], "bad.pem: no certificate in the file"),
        (&["server", "wss://127.0.0.1:1/", "--ca", "fifo.pem"], "fifo.pem: not a regular file"),
        (&["server", "wss://127.0.0.1:1/", "--ca", "/dev/zero"], "/dev/zero: not a regular file"),
    ] {
        let (code, _, stderr) = support::wsspec_in(cwd.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says) && stderr.lines().count() == 1, "{args:?}: {stderr}");
        assert!(!cwd.path().join("reports").exists(), "{args:?} made the default report folder");
    }
}

/// A PEM certificate and key an operator might bring (here: self-signed by rcgen).
fn operator_certificate() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Starts a TLS client-testing server with the client cases matching `patterns`.
async fn tls_server(patterns: &[&str], acceptor: Acceptor, out: &Path) -> ClientTestServer {
    let cases: Vec<Case> = support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    let config = ClientTestConfig {
        cases,
        exclude_agent_cases: Default::default(),
        sink: Arc::new(Sink::open(out).unwrap()),
        options: RunOptions::default(),
        on_result: None,
        on_refusal: None,
        tls: Some(acceptor),
    };
    ClientTestServer::start("127.0.0.1:0", config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_without_sni_fails_17_2_1_only() {
    let acceptor = acceptor();
    let connector = trusting(&acceptor);
    let out = tempfile::tempdir().unwrap();
    let server = tls_server(&["1.1.1", "17.2.1"], acceptor, out.path()).await;
    // An IP address in the URL: the client verifies the certificate against it and, as RFC 6066 §3
    // requires for an address, indicates no server name, although wsspec gave it `localhost`.
    let url = format!("wss://127.0.0.1:{}", server.addr.port());
    run_driver_with(&url, "client", Some(&connector)).await.unwrap();
    server.settle(Duration::from_secs(30)).await;
    let records: BTreeMap<String, CaseRecord> = server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect();
    assert_eq!(support::verdict_line(&records["1.1.1"]), "OK | OK | 1000");
    let sni = &records["17.2.1"];
    assert!(support::verdict_line(sni).starts_with("FAILED"), "{}", support::verdict_line(sni));
    assert!(sni.result.contains("no TLS server name (SNI) for `localhost`") && sni.result.contains("(§4.1)"), "{}", sni.result);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_sends_while_the_response_is_held_fails_17_3_1() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wsspec::{
        frame::{FrameSpec, OpCode},
        handshake::{random_key, RequestSpec},
    };
    let acceptor = acceptor();
    let connector = trusting(&acceptor);
    let out = tempfile::tempdir().unwrap();
    let server = tls_server(&["17.3.1"], acceptor, out.path()).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut tls = connector.connect("localhost", tcp).await.unwrap();
    let request = RequestSpec::websocket(&format!("localhost:{}", server.addr.port()), "/runCase?case=1&agent=client", &random_key());
    tls.write_all(&request.encode()).await.unwrap();
    // Not with the head: while wsspec holds its answer back.
    tokio::time::sleep(Duration::from_millis(100)).await;
    tls.write_all(&FrameSpec::new(OpCode::Text, b"too early".to_vec()).masked(rand::random()).encode()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    assert!(answer.starts_with(b"HTTP/1.1 400 "), "{}", String::from_utf8_lossy(&answer));
    server.settle(Duration::from_secs(30)).await;
    let record = &server.records("client")[0];
    assert!(support::verdict_line(record).starts_with("FAILED"), "{}", support::verdict_line(record));
    assert!(record.result.contains("came before the server's answer"), "{}", record.result);
}

/// A client under test that refuses wsspec's certificate (here the reference client, which trusts
/// the system's roots only) never gets a request through: a broken setup, exit 2 with what the
/// TLS handshake ended with and what the client must trust, not missing cases (exit 1).
#[test]
fn a_client_refusing_every_tls_handshake_is_a_broken_setup() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let driver = format!("{} reference-client {{url}} --agent {{agent}}", env!("CARGO_BIN_EXE_wsspec"));
    let (code, _, stderr) = support::wsspec(&["client", "--tls", "--cases", "1.1.1", "1.1.2", "--exec", &driver, "--out", dir]);
    assert_eq!(code, 2, "{stderr}");
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.contains("the client under test never completed a TLS handshake with wsspec (the TLS handshake ended with:"), "{stderr}");
    assert!(last.contains("it must trust the CA in") && last.contains("wsspec-ca.pem: give it to the client with {ca}"), "{stderr}");
    // Its cases are not run, never graded: no MISSING failures, and the stored run says why it stopped.
    assert!(stderr.contains("stopped: 0 of 2 cases ran; 2 not run: the client under test never completed") && !stderr.contains("MISSING"), "{stderr}");
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("wsspec-run.json")).unwrap()).unwrap();
    assert_eq!(run["agents"]["client"]["state"], "target-failed", "{run}");
    let (code, _, stderr) = support::wsspec(&["report", dir]);
    assert_eq!(code, 2, "an incomplete run never passes a gate: {stderr}");
}
