//! Cases that end at the opening handshake: requests built wrong on purpose, the HTTP exchange
//! recorded, and a judged verdict with a reason, against servers that answer each way.

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};
use wsspec::{
    catalog::Level,
    engine::{judge_opening, run_opening, OpeningExpectation, RunOptions, Target},
    handshake::{random_key, RequestSpec},
    peers::reference_server::ReferenceServer,
};
use wsspec_reports::{Behavior, BehaviorClose};

/// A server that reads one request head and answers `response` to it, on every connection.
async fn answering(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut head, mut byte) = (Vec::new(), [0u8; 1]);
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// §4.2.2/§4.4: a version other than 13 is refused with 426 and the versions the server speaks.
fn version_8(url: &str) -> (RequestSpec, Target) {
    let target = Target::parse(url).unwrap();
    let mut request = RequestSpec::websocket(&target.host_header, &target.resource, &random_key());
    request.headers.set("Sec-WebSocket-Version", "8");
    (request, target)
}

fn expect_426() -> OpeningExpectation {
    OpeningExpectation { level: Level::Must, rfc: "4.4".into(), statuses: vec![426..=426], headers: vec![("Sec-WebSocket-Version".into(), String::new())] }
}

#[tokio::test]
async fn a_refusal_as_the_rfc_asks_passes_and_is_recorded() {
    let url = answering("HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n").await;
    let (request, target) = version_8(&url);
    let obs = run_opening(&request, &target, &RunOptions::default()).await;
    assert_eq!(obs.exchange.status, Some(426));
    assert_eq!(obs.exchange.header("sec-websocket-version"), Some("13"));
    assert!(obs.exchange.request.windows(26).any(|w| w == b"Sec-WebSocket-Version: 8\r\n"));
    assert!(obs.exchange.response.starts_with(b"HTTP/1.1 426"));
    let verdict = judge_opening(&expect_426(), &obs);
    assert_eq!((verdict.behavior, verdict.behavior_close), (Behavior::Ok, BehaviorClose::Informational), "{}", verdict.result);
}

#[tokio::test]
async fn a_refusal_without_the_required_header_fails() {
    let url = answering("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n").await;
    let (request, target) = version_8(&url);
    let verdict = judge_opening(&expect_426(), &run_opening(&request, &target, &RunOptions::default()).await);
    assert_eq!(verdict.behavior, Behavior::Failed);
    assert!(verdict.result.contains("without the `Sec-WebSocket-Version` header"), "{}", verdict.result);
}

#[tokio::test]
async fn another_status_misses_at_the_case_level() {
    let url = answering("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n").await;
    let (request, target) = version_8(&url);
    let should = OpeningExpectation { level: Level::Should, ..expect_426() };
    let verdict = judge_opening(&should, &run_opening(&request, &target, &RunOptions::default()).await);
    assert_eq!(verdict.behavior, Behavior::NonStrict);
    assert!(verdict.result.contains("answered status 400") && verdict.result.contains("§4.4 asks for status 426"), "{}", verdict.result);
}

#[tokio::test]
async fn tungstenite_accepts_odd_cased_names_and_token_lists_but_does_not_answer_version_8_with_426() {
    let server = ReferenceServer::start().await.unwrap();
    let target = Target::parse(&server.url()).unwrap();
    let mut odd = RequestSpec::websocket(&target.host_header, &target.resource, &random_key());
    odd.headers.set("sec-websocket-key", &random_key());
    odd.headers.set("CONNECTION", "keep-alive, Upgrade");
    odd.chop = Some(7);
    let accepted = OpeningExpectation { level: Level::Must, rfc: "4.2.1".into(), statuses: vec![101..=101], headers: vec![] };
    let obs = run_opening(&odd, &target, &RunOptions::default()).await;
    let verdict = judge_opening(&accepted, &obs);
    assert_eq!(verdict.behavior, Behavior::Ok, "{}", verdict.result);
    assert!(obs.exchange.error.is_none() && obs.closed_by_me);

    let (request, target) = version_8(&server.url());
    let verdict = judge_opening(&expect_426(), &run_opening(&request, &target, &RunOptions::default()).await);
    assert_eq!(verdict.behavior, Behavior::Failed, "{}", verdict.result);
}
