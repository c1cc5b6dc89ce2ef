//! WebSocket over HTTP/2 (RFC 8441): the frame catalog over h2c and over TLS with ALPN `h2` against
//! the embedded RFC 8441 server gives the HTTP/1.1 baseline's verdicts; section 22 passes there, each
//! server with one RFC 8441 defect is caught by exactly the section-22 cases meant to catch it, and a
//! TLS server that does not select `h2` is refused before the first case.

use std::collections::BTreeMap;

use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsspec::{
    catalog::{Case, Role},
    engine::{run_cases, RunConfig, RunEnd, RunError, RunOptions, Stop, Target},
    peers::{
        h2_server::{H2Fault, H2ReferenceServer},
        reference_server::ReferenceServer,
    },
    tls::{certs, Acceptor, Connector},
};
use wsspec_reports::{Behavior, CaseRecord};

use crate::support;

async fn run_h2(url: &str, cases: &[Case]) -> BTreeMap<String, CaseRecord> {
    run_h2_with(url, cases, None).await.expect("the run completes")
}

/// Runs `cases` over HTTP/2, over TLS with `tls` for a `wss://` URL.
async fn run_h2_with(url: &str, cases: &[Case], tls: Option<Connector>) -> Result<BTreeMap<String, CaseRecord>, RunError> {
    support::run_with(url, cases, RunOptions { http2: true, tls, ..RunOptions::default() }).await
}

fn acceptor() -> Acceptor {
    Acceptor::in_memory(&certs::names_for("127.0.0.1")).unwrap()
}

/// A connector that trusts `acceptor`'s CA and offers ALPN `h2` alone, as `--http2` makes it.
fn h2_connector(acceptor: &Acceptor) -> Connector {
    Connector::trusting(std::slice::from_ref(acceptor.ca().unwrap())).for_http2()
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

/// The frame catalog and section 22 over TLS with ALPN `h2` (`wss://`): the verdicts of h2c, the
/// report names TLS with ALPN h2, and the extended CONNECT carries `:scheme https` (RFC 8441 §5).
#[tokio::test(flavor = "multi_thread")]
async fn over_tls_with_alpn_h2_the_verdicts_are_those_of_h2c() {
    let acceptor = acceptor();
    let server = H2ReferenceServer::start_tls(&acceptor).await.unwrap();
    assert!(server.url().starts_with("wss://"), "{}", server.url());
    let cases: Vec<Case> = support::catalog().cases.into_iter().filter(|c| c.applies_to(Role::Server) && c.runs_over_http2(true)).collect();
    let records = run_h2_with(&server.url(), &cases, Some(h2_connector(&acceptor))).await.expect("the run completes");
    let frames: BTreeMap<String, CaseRecord> = records.iter().filter(|(id, _)| !id.starts_with("22.")).map(|(id, r)| (id.clone(), r.clone())).collect();
    let baseline = support::baseline("tungstenite.json", &frames).into_iter().filter(|(id, _)| frames.contains_key(id)).collect();
    let diff = support::differences(&baseline, &frames);
    assert!(diff.is_empty(), "verdicts over HTTP/2 with TLS differ from HTTP/1.1:\n{}", diff.join("\n"));
    let section: BTreeMap<String, CaseRecord> = records.into_iter().filter(|(id, _)| id.starts_with("22.")).collect();
    assert_eq!(section.len(), section_22().len());
    assert_eq!(caught(&section), Vec::<String>::new());
    let tls = frames["1.1.1"].tls.as_deref().expect("the report names the TLS parameters");
    assert!(tls.contains("ALPN h2"), "{tls}");
    let request = &frames["1.1.1"].http_request;
    assert!(request.contains(":scheme: https"), "{request}");
    assert!(section["22.3.1"].http_request.contains(":scheme: https"), "{}", section["22.3.1"].http_request);
}

/// A TLS server that does not select ALPN `h2` (one that refuses it with an alert, one that selects
/// no protocol) cannot be run over HTTP/2: the run stops before the first case, saying so.
#[tokio::test(flavor = "multi_thread")]
async fn a_tls_server_without_alpn_h2_is_refused_before_the_first_case() {
    let acceptor = acceptor();
    let connector = h2_connector(&acceptor);
    let http1 = ReferenceServer::start_tls(acceptor).await.unwrap();
    let (no_alpn, no_alpn_connector) = no_alpn_server().await;
    for (url, connector, says) in [(http1.url(), connector, "refused ALPN `h2`"), (no_alpn, no_alpn_connector, "selected no ALPN protocol")] {
        match run_h2_with(&url, &support::cases(&["1.1.1"]), Some(connector)).await {
            Err(RunError::Unreachable { reason, .. }) => assert!(reason.contains(says) && reason.contains("RFC 9113 §3.2"), "{url}: {reason}"),
            other => panic!("{url}: the run was not refused: {:?}", other.map(|r| r.keys().cloned().collect::<Vec<_>>())),
        }
    }
}

/// A TLS server (a throw-away certificate) that selects no ALPN protocol and then says nothing, and
/// an HTTP/2 connector that trusts it.
async fn no_alpn_server() -> (String, Connector) {
    let set = certs::throw_away(&certs::names_for("127.0.0.1")).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(set.good.chain.clone(), set.good.key.clone_key())
        .unwrap();
    config.alpn_protocols.clear();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let held = acceptor.accept(tcp).await;
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                drop(held);
            });
        }
    });
    (url, Connector::trusting(std::slice::from_ref(&set.ca)).for_http2())
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
#[case::refuses_websocket(H2Fault::RefusesWebSocket, &["22.2.1", "22.2.2", "22.2.3", "22.4.1", "22.4.2", "22.4.3"])]
// 22.2.2 reads a stream that ends with no close frame as its size-limit alternative (INFORMATIONAL
// behavior; its closing is judged apart).
#[case::ends_at_once(H2Fault::EndsAtOnce, &["22.2.1", "22.4.1", "22.4.2", "22.4.3"])]
#[tokio::test(flavor = "multi_thread")]
async fn fault_is_caught(#[case] fault: H2Fault, #[case] expected: &[&str]) {
    let server = H2ReferenceServer::with_fault(fault).await.unwrap();
    let records = run_h2(&server.url(), &section_22()).await;
    let reasons: Vec<String> = records.values().map(|r| format!("{} {}: {}", r.id, r.behavior.as_str(), r.result)).collect();
    assert_eq!(caught(&records), expected, "{fault:?}: the cases that catch it differ:\n{}", reasons.join("\n"));
}

/// An extended CONNECT never answered is silence, not a refusal: each case is judged on its first
/// attempt, none deferred or tried again alone (each retry waited out the 5 s opening wait again:
/// section 22 took 255 s against this server, now about 10 s).
#[tokio::test(flavor = "multi_thread")]
async fn a_never_answered_extended_connect_is_not_retried_as_a_refusal() {
    let server = H2ReferenceServer::with_fault(H2Fault::NeverAnswers).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = Target::parse(&server.url()).unwrap();
    let config = RunConfig { agent: "never-answers".into(), target, options: RunOptions { http2: true, jobs: 8, ..RunOptions::default() } };
    let sink = wsspec_reports::sink::Sink::open(out.path()).unwrap();
    let report = run_cases(&section_22(), &config, &sink, &Stop::new(), |_| {}).await.unwrap();
    assert_eq!(report.end, RunEnd::Complete);
    assert!(report.deferred.is_empty() && report.alone.made == 0, "deferred {:?}, alone {:?}", report.deferred, report.alone);
    assert_eq!(report.results.len(), section_22().len());
}

#[test]
fn the_cli_runs_each_section_over_its_own_transport() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let (code, _, stderr) = support::wsspec(&["server", "--http2", "--cases", "22.*", "1.1.1", "18.1.1", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("1 HTTP/1.1 opening-handshake (18.x) and permessage-deflate (12.x, 13.x, 20.x) cases are not run over HTTP/2"), "{stderr}");
    assert!(stderr.contains("15 cases against tungstenite-embedded@h2c (ws://"), "{stderr}");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(std::path::Path::new(out).join("wsspec-run.json")).unwrap()).unwrap();
    assert!(run["agents"]["tungstenite-embedded@h2c"]["notes"].to_string().contains("1 HTTP/1.1 opening-handshake (18.x)"), "kept with the run: {run}");
    let (code, _, stderr) = support::wsspec(&["server", "--cases", "22.*", "--out", out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("add --http2"), "{stderr}");
    let (code, _, stderr) = support::wsspec(&["server", "--http2", "--cases", "18.1.*", "--out", out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--http2 does not run yet"), "{stderr}");
    // Over TLS with ALPN h2: the embedded server's results are filed beside the h2c ones.
    let (code, _, stderr) = support::wsspec(&["server", "--http2", "--embedded-tls", "--cases", "22.2.1", "1.1.1", "--out", out]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("2 cases against tungstenite-embedded@h2 (wss://") && stderr.contains("over HTTP/2 over TLS (ALPN h2)"), "{stderr}");
    let index: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(std::path::Path::new(out).join("index.json")).unwrap()).unwrap();
    let agents: Vec<&String> = index.as_object().unwrap().keys().collect();
    assert_eq!(agents, ["tungstenite-embedded@h2", "tungstenite-embedded@h2c"]);
}

/// `wss://` with `--http2` against a TLS server that speaks HTTP/1.1 only: one line naming the
/// missing ALPN `h2`, exit 2, no case run.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_refuses_a_tls_server_without_alpn_h2_in_one_line() {
    let server = ReferenceServer::start_tls(acceptor()).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let args = ["server", &server.url(), "--http2", "--insecure", "--cases", "1.1.1", "--out", out.path().to_str().unwrap()].map(str::to_string);
    let (code, _, stderr) = tokio::task::spawn_blocking(move || support::wsspec(&args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
    assert_eq!(code, 2, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("h2`")).collect();
    assert!(errors.len() == 1 && errors[0].contains("refused ALPN `h2`") && errors[0].contains(&server.url()), "{stderr}");
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

/// A raw HTTP/2 server on 127.0.0.1 that plays `serve` on every connection (no preface checks):
/// for servers the h2 crate will not be. Its URL.
async fn raw_h2_server<F, Fut>(serve: F) -> String
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    url
}

/// RFC 8441 §3: "The value of the parameter MUST be 0 or 1." A server whose SETTINGS carry 2 fails
/// 22.1.1, whose own level (advertising is optional) is MAY.
#[tokio::test(flavor = "multi_thread")]
async fn a_setting_value_other_than_0_or_1_fails() {
    let url = raw_h2_server(|mut tcp| async move {
        // SETTINGS (type 4) with one parameter: SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) = 2.
        let _ = tcp.write_all(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2]).await;
        let mut sink = [0u8; 1024];
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
    let records = run_h2(&url, &support::cases(&["22.1.1"])).await;
    let record = &records["22.1.1"];
    assert_eq!(record.behavior, Behavior::Failed, "{}", record.result);
    assert!(record.result.contains("= 2") && record.result.contains("MUST be 0 or 1"), "{}", record.result);
}

/// A server that answers a crafted request with HEADERS and then CONTINUATION frames that never
/// end the block (a CONTINUATION flood) is refused at wsspec's 64 KiB header-block bound: the case
/// gets a verdict naming it instead of wsspec's memory growing until the probe's timeout.
#[tokio::test(flavor = "multi_thread")]
async fn a_continuation_flood_is_cut_at_the_header_block_bound() {
    let url = raw_h2_server(|mut tcp| async move {
        // SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, then wait for the request.
        let _ = tcp.write_all(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1]).await;
        let mut request = [0u8; 4096];
        let _ = tcp.read(&mut request).await;
        // HEADERS on stream 1 without END_HEADERS (`:status 200`), then 16 KiB CONTINUATION frames
        // (type 9) without END_HEADERS, until wsspec hangs up.
        let _ = tcp.write_all(&[0, 0, 1, 1, 0, 0, 0, 0, 1, 0x88]).await;
        let mut continuation = vec![0, 0x40, 0, 9, 0, 0, 0, 0, 1];
        continuation.resize(9 + 16_384, 0x88);
        for _ in 0..1_000 {
            if tcp.write_all(&continuation).await.is_err() {
                return;
            }
        }
    })
    .await;
    let records = run_h2(&url, &support::cases(&["22.3.1"])).await;
    let record = &records["22.3.1"];
    assert!(record.result.contains("header block went past 65536 bytes"), "{}", record.result);
}
