//! Targets that ping and send unsolicited pongs on their own (keepalives, heartbeats: RFC 6455
//! §5.5.2, §5.5.3) get the verdicts they would get without them, in both roles; wsspec answers
//! each ping with its application data; a broken peer that pings is still caught.

use std::collections::BTreeMap;

use wsspec::{
    catalog::{case_matches, Role},
    peers::{
        faulty::{Defect, FaultyServer},
        reference_client::run_driver,
        reference_server::ReferenceServer,
    },
};
use wsspec_reports::CaseRecord;

use crate::support::{self, keepalive::{KeepaliveProxy, Wsspec}};

/// The sections run: every frame-level section a plain echo server answers.
const SECTIONS: &[&str] = &["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"];

/// The lines of `baseline` for the cases in `records`: the plain peer's verdicts.
fn expected(baseline: &str, records: &BTreeMap<String, CaseRecord>) -> BTreeMap<String, String> {
    support::baseline(baseline, &BTreeMap::new()).into_iter().filter(|(id, _)| records.contains_key(id)).collect()
}

/// What every keepalive run must show: pings injected, each answered by wsspec with its data while
/// the WebSocket was open, and the pings on the case pages.
fn assert_answered(proxy: &KeepaliveProxy, records: &BTreeMap<String, CaseRecord>) {
    let (pings, heartbeats, answers) = proxy.counted();
    assert!(pings > 1000 && heartbeats > 1000, "{pings} pings, {heartbeats} heartbeats injected");
    // wsspec does not answer a ping that comes after its own close frame (it closes first in most cases).
    assert!(answers * 3 > pings * 2, "wsspec answered {answers} of {pings} pings");
    // Not every case sees a frame of the peer's (around which the pings go): in client mode about a
    // third do not (203 of 301 show pings), so the bound is two thirds.
    let shown = records.values().filter(|r| r.received_counts.get("ping").is_some_and(|n| *n > 0)).count();
    assert!(shown * 3 > records.len() * 2, "{shown} of {} case pages show the target's pings", records.len());
    let heard = records.values().filter(|r| r.received_counts.get("unsolicited pong").is_some_and(|n| *n > 0)).count();
    assert!(heard * 3 > records.len() * 2, "{heard} of {} case pages show unsolicited pongs", records.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_pings_gets_the_plain_servers_verdicts() {
    let server = ReferenceServer::start().await.unwrap();
    let proxy = KeepaliveProxy::start(server.addr, Wsspec::Client).await.unwrap();
    let cases: Vec<_> = support::cases(SECTIONS).into_iter().filter(|c| c.runs_over_http2(false)).collect();
    let records = support::run(&proxy.url(), &cases).await;
    let differences = support::differences(&expected("tungstenite.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the plain server's:\n{}", differences.join("\n"));
    assert_eq!(records.len(), cases.len());
    assert_answered(&proxy, &records);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_pings_gets_the_plain_clients_verdicts() {
    let out = tempfile::tempdir().unwrap();
    let cases: Vec<_> = support::catalog()
        .cases
        .into_iter()
        .filter(|c| c.applies_to(Role::Client) && SECTIONS.iter().any(|p| case_matches(p, c.id.as_str())))
        .collect();
    let count = cases.len();
    let server = support::client_test_server(cases, out.path()).await;
    let proxy = KeepaliveProxy::start(server.addr, Wsspec::Server).await.unwrap();
    run_driver(proxy.url().trim_end_matches('/'), "client").await.unwrap();
    assert!(server.missing("client").is_empty(), "every case has a result: {:?}", server.missing("client"));
    let records: BTreeMap<String, CaseRecord> = server.records("client").into_iter().map(|r| (r.id.clone(), r)).collect();
    assert_eq!(records.len(), count);
    let differences = support::differences(&expected("tungstenite-client.json", &records), &records);
    assert!(differences.is_empty(), "verdicts differ from the plain client's:\n{}", differences.join("\n"));
    assert_answered(&proxy, &records);
}

/// A server that answers wsspec's pings with other application data is still caught by exactly the
/// cases the plain broken server fails (`broken_servers`), heartbeats and its own pings around it.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_pong_is_caught_among_heartbeats() {
    let server = FaultyServer::start(Defect::WrongPongPayload).await.unwrap();
    let addr = server.url().trim_start_matches("ws://").trim_end_matches('/').parse().unwrap();
    let proxy = KeepaliveProxy::start(addr, Wsspec::Client).await.unwrap();
    let records = support::run(&proxy.url(), &support::cases(&["2.*", "15.3.*"])).await;
    let mut failing = support::failing(&records);
    failing.sort();
    let expected = ["2.1", "2.10", "2.11", "2.2", "2.3", "2.4", "2.6", "2.9", "15.3.1", "15.3.2"];
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(failing, expected);
    let reason = &records["2.2"].result;
    assert!(reason.contains("a pong `") && reason.contains("answering a ping with other application data"), "{reason}");
}
