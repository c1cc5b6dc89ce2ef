//! WebSocket over HTTP/2 (RFC 8441): the frame catalog over h2c against the embedded RFC 8441
//! server gives the HTTP/1.1 baseline's verdicts; section 22 passes there, and each server with one
//! RFC 8441 defect is caught by exactly the section-22 cases meant to catch it.

use std::collections::BTreeMap;

use rstest::rstest;
use wsspec::{
    catalog::{Case, Role},
    engine::{run_cases, RunConfig, RunOptions, Stop, Target},
    peers::h2_server::{H2Fault, H2ReferenceServer},
};
use wsspec_reports::{sink::Sink, Behavior, CaseRecord};

use crate::support;

async fn run_h2(url: &str, cases: &[Case]) -> BTreeMap<String, CaseRecord> {
    let out = tempfile::tempdir().expect("temp dir");
    let options = RunOptions { http2: true, ..RunOptions::default() };
    let config = RunConfig { agent: "test-h2".into(), target: Target::parse(url).expect("valid url"), options };
    let sink = Sink::open(out.path()).expect("a writable folder");
    let mut records = BTreeMap::new();
    let report = run_cases(cases, &config, &sink, &Stop::new(), |r| drop(records.insert(r.id.clone(), r.clone()))).await.expect("the run completes");
    assert!(report.errors.is_empty(), "wsspec errors: {:?}", report.errors);
    records
}

fn section_22() -> Vec<Case> {
    support::cases(&["22.*"])
}

/// Ids whose behavior is neither OK nor INFORMATIONAL, sorted.
fn caught(records: &BTreeMap<String, CaseRecord>) -> Vec<String> {
    records.values().filter(|r| !matches!(r.behavior, Behavior::Ok | Behavior::Informational)).map(|r| r.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_frame_catalog_over_http2_matches_the_http1_baseline() {
    let server = H2ReferenceServer::start().await.unwrap();
    let cases: Vec<Case> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.http2.is_none() && c.runs_over_http2(true)).collect();
    assert!(cases.len() > 300, "the frame catalog: {}", cases.len());
    let records = run_h2(&server.url(), &cases).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/baselines/tungstenite.json");
    let baseline: BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let differences: Vec<String> = cases
        .iter()
        .map(|c| c.id.to_string())
        .filter_map(|id| {
            let got = records.get(&id).map(support::verdict_line);
            (got.as_ref() != baseline.get(&id)).then(|| format!("{id}: HTTP/1.1 {:?}, HTTP/2 {got:?} ({:?})", baseline.get(&id), records.get(&id).map(|r| &r.result)))
        })
        .collect();
    assert!(differences.is_empty(), "verdicts over HTTP/2 differ from HTTP/1.1:\n{}", differences.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_rfc8441_server_passes_section_22() {
    let server = H2ReferenceServer::start().await.unwrap();
    let records = run_h2(&server.url(), &section_22()).await;
    assert_eq!(records.len(), section_22().len());
    assert_eq!(caught(&records), Vec::<String>::new());
    // Every refusal is h2's RST_STREAM(PROTOCOL_ERROR); the unknown protocol gets 501.
    assert!(records["22.3.1"].result.contains("RST_STREAM(PROTOCOL_ERROR)"), "{}", records["22.3.1"].result);
    assert!(records["22.3.7"].result.contains("501"), "{}", records["22.3.7"].result);
    assert_eq!(records["22.3.6"].behavior, Behavior::Informational);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_the_setting_is_unimplemented() {
    let server = H2ReferenceServer::with_fault(H2Fault::NoSetting).await.unwrap();
    let records = run_h2(&server.url(), &section_22()).await;
    let other: Vec<_> = records.values().filter(|r| r.behavior != Behavior::Unimplemented).map(|r| (r.id.clone(), r.result.clone())).collect();
    assert!(other.is_empty(), "not UNIMPLEMENTED: {other:?}");
    assert!(support::failing(&records).is_empty());
}

#[rstest]
#[case::any_protocol(H2Fault::AnyProtocol, &["22.3.7"])]
#[case::never_answers(H2Fault::NeverAnswers, &["22.2.1", "22.2.2", "22.2.3", "22.4.1", "22.4.2", "22.4.3"])]
#[case::resets_after_close(H2Fault::ResetsAfterClose, &["22.4.2"])]
#[tokio::test(flavor = "multi_thread")]
async fn fault_is_caught(#[case] fault: H2Fault, #[case] expected: &[&str]) {
    let server = H2ReferenceServer::with_fault(fault).await.unwrap();
    let records = run_h2(&server.url(), &section_22()).await;
    let reasons: Vec<String> = records.values().map(|r| format!("{} {}: {}", r.id, r.behavior.as_str(), r.result)).collect();
    assert_eq!(caught(&records), expected, "{fault:?}: the cases that catch it differ:\n{}", reasons.join("\n"));
}

#[test]
fn the_cli_runs_each_section_over_its_own_transport() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let (code, _, stderr) = support::wsspec(&["server", "--http2", "--cases", "22.*", "1.1.1", "18.1.1", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 HTTP/1.1 opening-handshake (18.x) and permessage-deflate (12.x, 13.x, 20.x) cases are not run over HTTP/2"), "{stderr}");
    assert!(stderr.contains("15 cases against tungstenite-h2"), "{stderr}");
    let (code, _, stderr) = support::wsspec(&["server", "--cases", "22.*", "--out", out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("add --http2"), "{stderr}");
    let (code, _, stderr) = support::wsspec(&["server", "--http2", "--cases", "18.1.*", "--out", out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--http2 does not run yet"), "{stderr}");
    for tls in [&["wss://127.0.0.1:9/"][..], &["--embedded-tls"][..]] {
        let (code, _, stderr) = support::wsspec(&[&["server", "--http2", "--cases", "1.1.1", "--out", out][..], tls].concat());
        assert_eq!(code, 2, "{tls:?}: {stderr}");
        assert!(stderr.contains("HTTP/2 over TLS") && stderr.lines().count() == 1, "{tls:?}: {stderr}");
    }
}

/// A server that accepts TCP and never speaks HTTP/2: the reason names the connection that never got
/// ready (no SETTINGS, no answer to wsspec's PING), not a CONNECT that was never sent.
#[tokio::test]
async fn a_silent_server_is_named_as_never_ready_not_as_ignoring_the_connect() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let case = support::catalog().case("1.1.1").unwrap().clone();
    let options = RunOptions { http2: true, timeout_scale: 0.2, ..RunOptions::default() };
    let obs = wsspec::engine::run_case(&case, &Target::parse(&url).unwrap(), &options).await;
    let reason = obs.open_error.expect("it never opened");
    assert!(reason.starts_with("no HTTP/2 connection within") && reason.contains("PING"), "{reason}");
}

/// Over HTTP/2 the wire log and the reasons speak of the stream (END_STREAM), never of a TCP
/// connection wsspec does not own.
#[tokio::test(flavor = "multi_thread")]
async fn the_end_of_a_websocket_over_http2_is_worded_as_a_stream() {
    let server = H2ReferenceServer::start().await.unwrap();
    let records = run_h2(&server.url(), &support::cases(&["1.1.1", "5.1", "7.1.1"])).await;
    assert_eq!(records.len(), 3);
    for record in records.values() {
        let events: Vec<&str> = record.wirelog.iter().filter(|e| e.kind == "event").map(|e| e.data.as_str()).collect();
        assert!(events.iter().any(|e| e.contains("the target ended the HTTP/2 stream (END_STREAM)")), "{}: {events:?}", record.id);
        let reasons = [record.result.as_str(), record.result_close.as_str(), record.was_not_clean_reason.as_deref().unwrap_or("")];
        assert!(!events.iter().chain(&reasons).any(|text| text.contains("TCP")), "{}: {events:?} {reasons:?}", record.id);
    }
}
