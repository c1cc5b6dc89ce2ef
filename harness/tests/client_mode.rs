//! Testing clients: the whole catalog against the embedded tungstenite client (pinned in a
//! baseline), deliberately broken clients caught by the cases meant to catch them, and the URL
//! protocol answering bad requests cleanly.

use std::{collections::BTreeMap, sync::Arc};

use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsspec::{
    catalog::{case_matches, Case, Role},
    peers::{
        faulty::{Defect, DefectProxy},
        reference_client::run_driver,
    },
};
use wsspec_reports::CaseRecord;

use crate::support;

fn client_cases(patterns: &[&str]) -> Vec<Case> {
    support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && patterns.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect()
}

/// Runs the reference client (through `defect`'s proxy, if any) over `cases`; records by id.
async fn run_client(cases: Vec<Case>, defect: Option<Defect>) -> BTreeMap<String, CaseRecord> {
    let out = tempfile::tempdir().unwrap();
    let server = support::client_test_server(cases, out.path()).await;
    let proxy = match defect {
        Some(defect) => Some(DefectProxy::start(server.addr, defect).await.unwrap()),
        None => None,
    };
    let url = proxy.as_ref().map_or(server.url(), |p| p.url());
    run_driver(&url, "client").await.unwrap();
    assert!(server.missing("client").is_empty(), "every case has a result: {:?}", server.missing("client"));
    server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tungstenite_client_matches_the_baseline() {
    let records = run_client(client_cases(&["*"]), None).await;
    let differences = support::differences(&support::baseline("tungstenite-client.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the baseline:\n{}", differences.join("\n"));
}

#[rstest]
#[case::accepts_masked_frames(Defect::ClientAcceptsMasked, &["16.*"], &["16.2.1", "16.2.2", "16.2.3", "16.2.4", "16.2.5", "16.2.6"])]
#[tokio::test(flavor = "multi_thread")]
async fn broken_client_is_caught(#[case] defect: Defect, #[case] sections: &[&str], #[case] expected: &[&str]) {
    let records = run_client(client_cases(sections), Some(defect)).await;
    assert_eq!(support::failing(&records), expected, "{defect:?}");
}

/// A client that breaks its masking duty fails every case in which it sends a frame, whatever the
/// case is about: the duty is checked on every frame.
#[rstest]
#[case::sends_unmasked(Defect::ClientSendsUnmasked, "an unmasked frame")]
#[case::reuses_key(Defect::ClientReusesMaskKey, "a client MUST pick a fresh key")]
#[tokio::test(flavor = "multi_thread")]
async fn masking_duties_are_judged_on_every_frame(#[case] defect: Defect, #[case] reason: &str) {
    let records = run_client(client_cases(&["1.1.*", "16.1.*"]), Some(defect)).await;
    assert_eq!(records.len(), 11);
    for record in records.values() {
        assert_eq!(record.behavior.as_str(), "FAILED", "{}", record.id);
        assert!(record.result.contains(reason), "{}: {}", record.id, record.result);
        // Its close frame breaks the rule too, but is still its close reply: no 2 s close wait.
        assert!(record.duration < 1500, "{}: {} ms, {:?}", record.id, record.duration, record.was_not_clean_reason);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_skips_utf8_validation_fails_the_invalid_utf8_cases() {
    let cases = client_cases(&["6.*"]);
    let invalid: Vec<String> = cases
        .iter()
        .filter(|c| c.expect.iter().all(|a| c.close_for(a).codes.iter().any(|code| code.0 == 1007)))
        .map(|c| c.id.to_string())
        .collect();
    let records = run_client(cases, Some(Defect::ClientSkipsUtf8)).await;
    let mut failing = support::failing(&records);
    failing.sort();
    let mut invalid = invalid;
    invalid.sort();
    assert_eq!(invalid.len(), 75);
    assert_eq!(failing, invalid);
}

/// Sends a raw HTTP request and returns the whole answer.
async fn raw_request(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn upgrade(target: &str) -> String {
    format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A client following 19.2.12's redirect (RFC 6455 §4.1 lets it) asks for its Location: answered
/// 404, with no "refused a request" line for the operator, as a driver's wrong request gets.
#[tokio::test]
async fn following_the_redirect_of_19_2_12_is_no_driver_error() {
    let cases = client_cases(&["19.2.12"]);
    assert!(cases[0].description.as_deref().is_some_and(|d| d.contains("'Location: /wsspec-redirect'")), "the catalog's redirect is the one served");
    let out = tempfile::tempdir().unwrap();
    let refused = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = refused.clone();
    let config = wsspec::client_testing::ClientTestConfig {
        cases,
        exclude_agent_cases: Default::default(),
        sink: Arc::new(wsspec_reports::sink::Sink::open(out.path()).unwrap()),
        options: wsspec::engine::RunOptions::default(),
        on_result: None,
        tls: None,
        on_refusal: Some(Arc::new(move |status, target: &str, _: &str| seen.lock().unwrap().push(format!("{status} {target}")))),
    };
    let server = wsspec::client_testing::ClientTestServer::start("127.0.0.1:0", config).await.unwrap();
    let followed = raw_request(server.addr, &upgrade("/wsspec-redirect")).await;
    assert!(followed.starts_with("HTTP/1.1 404") && followed.contains("19.2.12"), "{followed}");
    let wrong = raw_request(server.addr, &upgrade("/nowhere")).await;
    assert!(wrong.starts_with("HTTP/1.1 404"), "{wrong}");
    assert_eq!(*refused.lock().unwrap(), ["404 /nowhere"]);
}

#[tokio::test]
async fn the_url_protocol_answers_bad_requests_cleanly() {
    let out = tempfile::tempdir().unwrap();
    let server = support::client_test_server(client_cases(&["1.1.*"]), out.path()).await;
    let bad = raw_request(server.addr, &upgrade("/runCase?case=99&agent=a")).await;
    assert!(bad.starts_with("HTTP/1.1 400") && bad.contains("expected a number from 1 to 8"), "{bad}");
    let no_agent = raw_request(server.addr, &upgrade("/runCase?case=1")).await;
    assert!(no_agent.starts_with("HTTP/1.1 400") && no_agent.contains("missing parameter `agent`"), "{no_agent}");
    let unknown = raw_request(server.addr, &upgrade("/index.html")).await;
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    let plain = raw_request(server.addr, "GET /getCaseCount HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 400") && plain.contains("not a WebSocket opening handshake"), "{plain}");
    let garbage = raw_request(server.addr, "\u{1}\u{2}\u{3}\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    // The Host header names another port (a container mapping): still served, unlike Autobahn.
    let count = raw_request(server.addr, &upgrade("/getCaseCount")).await;
    assert!(count.starts_with("HTTP/1.1 101") && count.contains('8'), "{count}");
    let info = raw_request(server.addr, &upgrade("/getCaseInfo?casetuple=1.1.2")).await;
    assert!(info.contains(r#""id":"1.1.2""#), "{info}");
}

/// A plain HTTP GET of `/runCase` (curl, a health check: no Upgrade, no key) is answered 426 and
/// recorded as nothing; a WebSocket request missing only `Upgrade` is still judged (FAILED, §4.1).
#[tokio::test]
async fn a_plain_http_run_case_is_refused_not_recorded() {
    let out = tempfile::tempdir().unwrap();
    let server = support::client_test_server(client_cases(&["1.1.*"]), out.path()).await;
    let plain = raw_request(server.addr, "GET /runCase?case=1&agent=curl HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(plain.starts_with("HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n") && plain.contains("case 1.1.1 was not run"), "{plain}");
    assert!(server.agents().is_empty() && !out.path().join("index.json").exists(), "nothing recorded: {:?}", server.agents());
    let no_upgrade = upgrade("/runCase?case=1&agent=broken").replace("Upgrade: websocket\r\n", "");
    let answer = raw_request(server.addr, &no_upgrade).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let records = server.records("broken");
    assert_eq!(records.iter().map(|r| (r.id.as_str(), r.behavior.as_str())).collect::<Vec<_>>(), [("1.1.1", "FAILED")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn case_status_answers_once_the_result_exists() {
    let out = tempfile::tempdir().unwrap();
    let server = Arc::new(support::client_test_server(client_cases(&["1.1.1"]), out.path()).await);
    let status = tokio::spawn({
        let addr = server.addr;
        async move { raw_request(addr, &upgrade("/getCaseStatus?case=1&agent=a")).await }
    });
    run_driver(&server.url(), "a").await.unwrap();
    let status = status.await.unwrap();
    assert!(status.contains(r#"{"behavior":"OK"}"#), "{status}");
    let index = std::fs::read_to_string(out.path().join("index.json")).unwrap();
    assert!(index.contains("\"a_case_1_1_1.json\""), "{index}");
}
